//! End to end, by keys: any resource from discovery in the real console,
//! against the seed simulator. `:ing`, `:pvc` and `:pdb` list the seed's
//! objects with the server's columns; `:cm` follows a ConfigMap created and
//! deleted with kubectl, no key pressed; `:secret` shows a Secret's type
//! and key count and its full YAML with the values hidden; an unknown name says so.
//! Custom kinds: the seed's Certificates with their printer columns, and a
//! CRD created meanwhile, listed and browsable with no restart.

use std::time::Duration;

use kubedeck_sim::config::SimConfig;

use crate::tmux::{self, BIN, Tmux};

const WAIT: Duration = Duration::from_secs(60);

/// The seed's Secret values, as stored (base64) and decoded.
const SECRET_VALUES: [&str; 2] = ["c2ltLW5vdC1hLXJlYWwtcGFzc3dvcmQ", "sim-not-a-real-password"];

fn command(tmux: &Tmux, line: &str) {
    tmux.keys(&[":"]);
    tmux.type_text(line);
    tmux.keys(&["Enter"]);
}

/// The table's row naming `name`, if shown.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        l.split_whitespace()
            .any(|w| w == name || w == format!("│{name}"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_resource_lists_with_the_servers_columns_live_and_never_a_secret_value() {
    tmux::require_tmux();
    crate::common::require_kubectl();
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    let tmux = Tmux::new("browse");
    let home = ts.dir.path().join("home");
    let kubeconfig = ts.kubeconfig.clone();
    // The simulator runs on this test's runtime: tmux's waits sleep off it.
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "", (160, 45));
        tmux.wait_for("the overview", WAIT, |s| s.contains("Overview(all)"));
        // Discovery answers after the first frame: wait for its list.
        command(&tmux, "api-resources");
        tmux.wait_for("the resource list", WAIT, |s| {
            s.contains("API resources(all)[") && !s.contains("API resources(all)[0]")
        });

        command(&tmux, "ing");
        // The rows come with the watch's list, the columns with the Table.
        let screen = tmux.wait_for(
            "the seed's Ingresses, with the Table's columns",
            WAIT,
            |s| {
                s.contains("ingresses.networking.k8s.io(all)[2]")
                    && row(s, "myfin-ingress").is_some_and(|r| r.contains("myfin.local"))
            },
        );
        for column in [
            "NAMESPACE",
            "NAME",
            "CLASS",
            "HOSTS",
            "ADDRESS",
            "PORTS",
            "AGE",
        ] {
            assert!(
                screen.contains(column),
                "the server's {column} column:\n{screen}"
            );
        }

        command(&tmux, "pvc");
        tmux.wait_for("the StatefulSets' claims, bound", WAIT, |s| {
            row(s, "redis-data-redis-master-0")
                .is_some_and(|r| r.contains("Bound") && r.contains("10Gi"))
        });

        command(&tmux, "pdb");
        tmux.wait_for("the seed's budgets, with their columns", WAIT, |s| {
            row(s, "myfin-api-pdb").is_some() && s.contains("ALLOWED DISRUPTIONS")
        });
    });

    tokio::task::block_in_place(|| {
        command(&tmux, "cm");
        tmux.wait_for("the seed's ConfigMaps, with their DATA column", WAIT, |s| {
            s.contains("configmaps(all)")
                && s.contains("DATA")
                && row(s, "prometheus-config").is_some()
        });
        // Described: the data by key, a multi-line value line by line.
        tmux.keys(&["/"]);
        tmux.type_text("prometheus-config");
        tmux.keys(&["Enter"]);
        tmux.wait_for("only prometheus-config", WAIT, |s| {
            s.contains("configmaps(all)[1]")
        });
        tmux.keys(&["d"]);
        let described = tmux.wait_for("its data by key", WAIT, |s| {
            s.contains("describe configmap/prometheus-config")
                && s.contains("prometheus.yml:")
                && s.lines()
                    .any(|l| l.trim_matches(['│', ' ']) == "scrape_interval: 30s")
        });
        assert!(described.contains("----"), "{described}");
        tmux.escape();
        tmux.keys(&["Escape"]);
        tmux.wait_for("the whole list again", WAIT, |s| {
            s.contains("configmaps(all)") && !s.contains("configmaps(all)[1]")
        });
    });
    ts.kubectl(&[
        "create",
        "configmap",
        "browse-me",
        "--from-literal=a=1",
        "--from-literal=b=2",
    ])
    .await
    .ok();
    tokio::task::block_in_place(|| {
        let screen = tmux.wait_for("the new ConfigMap, with its key count", WAIT, |s| {
            row(s, "browse-me").is_some_and(|r| r.contains(" 2 "))
        });
        let new = row(&screen, "browse-me").unwrap_or_default();
        assert!(new.contains("default"), "{new}");
    });
    ts.kubectl(&["delete", "configmap", "browse-me"]).await.ok();
    tokio::task::block_in_place(|| {
        tmux.wait_for("the ConfigMap gone", WAIT, |s| {
            s.contains("configmaps(all)") && row(s, "browse-me").is_none()
        });

        command(&tmux, "secret");
        let screen = tmux.wait_for("the seed's Secrets: type and key count", WAIT, |s| {
            row(s, "mysql-secrets").is_some_and(|r| r.contains("Opaque") && r.contains(" 2 "))
        });
        tmux.keys(&["/"]);
        tmux.type_text("mysql");
        tmux.keys(&["Enter"]);
        tmux.wait_for("only mysql-secrets", WAIT, |s| {
            s.contains("secrets(all)[1]")
        });
        tmux.keys(&["y"]);
        let yaml = tmux.wait_for("its full YAML, values hidden", WAIT, |s| {
            s.contains("yaml secret/mysql-secrets") && s.contains("<hidden, 23 bytes>")
        });
        assert!(yaml.contains("password: <hidden, 23 bytes>"), "{yaml}");
        tmux.escape();
        tmux.keys(&["d"]);
        let described = tmux.wait_for("its keys described, as sizes", WAIT, |s| {
            s.contains("describe secret/mysql-secrets")
                && s.contains("password:  <hidden, 23 bytes>")
        });
        for value in SECRET_VALUES {
            assert!(
                !described.contains(value),
                "a Secret value described:\n{described}"
            );
        }
        assert!(yaml.contains("namespace: myfin"), "{yaml}");
        for value in SECRET_VALUES {
            assert!(!yaml.contains(value), "a Secret value in the YAML:\n{yaml}");
            assert!(
                !screen.contains(value),
                "a Secret value in the list:\n{screen}"
            );
        }
        tmux.escape();

        command(&tmux, "nosuchthing");
        tmux.wait_for("the unknown name explained", WAIT, |s| {
            s.contains("unknown command or resource \"nosuchthing\"")
        });

        // A kind with a built-in view keeps it.
        command(&tmux, "deployments.apps");
        tmux.wait_for("the workloads view", WAIT, |s| s.contains("Workloads(all)"));
    });
}

/// A custom kind with a short name and printer columns, one of them only
/// for `-o wide`.
const GADGETS: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.kubedeck.test
spec:
  group: kubedeck.test
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gdg]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
    additionalPrinterColumns:
    - {name: Colour, type: string, jsonPath: .spec.colour}
    - {name: Teeth, type: integer, jsonPath: .spec.teeth}
    - {name: Secret Note, type: string, priority: 1, jsonPath: .spec.note}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
"#;

const GADGET: &str = r#"
apiVersion: kubedeck.test/v1
kind: Gadget
metadata: {name: cog-7, namespace: default}
spec: {colour: ultramarine, teeth: 42, note: wide-only}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_kinds_show_with_their_printer_columns_and_new_ones_with_no_key_pressed() {
    tmux::require_tmux();
    crate::common::require_kubectl();
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    let tmux = Tmux::new("crds");
    let home = ts.dir.path().join("home");
    let kubeconfig = ts.kubeconfig.clone();
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "", (160, 45));
        tmux.wait_for("the overview", WAIT, |s| s.contains("Overview(all)"));
        command(&tmux, "api-resources");
        tmux.wait_for("the resource list, the seed's CRD in it", WAIT, |s| {
            row(s, "certificates").is_some()
        });
        // The seed's cert-manager Certificates, by short name.
        command(&tmux, "cert");
        let screen = tmux.wait_for("the Certificates with their printer columns", WAIT, |s| {
            row(s, "myfin-tls").is_some_and(|r| r.contains("True"))
                && row(s, "myfin-api-internal-tls").is_some_and(|r| r.contains("False"))
        });
        let header = screen
            .lines()
            .find(|l| l.contains("NAME") && l.contains("READY"))
            .unwrap_or_default();
        for column in ["NAMESPACE", "NAME", "READY", "SECRET", "AGE"] {
            assert!(header.contains(column), "no {column}:\n{screen}");
        }
        // Priority-1 columns are kubectl's -o wide only.
        assert!(!header.contains("ISSUER"), "{screen}");
        assert!(
            screen.contains("certificates.cert-manager.io(all)[2]"),
            "{screen}"
        );

        // A CRD created meanwhile joins the list with no key pressed.
        command(&tmux, "api-resources");
        tmux.wait_for("the resource list again", WAIT, |s| {
            row(s, "certificates").is_some()
        });
    });
    ts.kubectl_stdin(&["apply", "-f", "-"], GADGETS).await.ok();
    tokio::task::block_in_place(|| {
        tmux.wait_for("the new kind listed", WAIT, |s| {
            row(s, "gadgets").is_some_and(|r| r.contains("gdg") && r.contains("Gadget"))
        });
        command(&tmux, "gadgets");
        tmux.wait_for("the new kind's empty view, its columns", WAIT, |s| {
            s.contains("gadgets.kubedeck.test(all)[0]")
                && s.contains("COLOUR")
                && s.contains("TEETH")
        });
    });
    ts.kubectl_stdin(&["apply", "-f", "-"], GADGET).await.ok();
    tokio::task::block_in_place(|| {
        let screen = tmux.wait_for("the new object, with its cells", WAIT, |s| {
            row(s, "cog-7").is_some_and(|r| r.contains("ultramarine") && r.contains("42"))
        });
        assert!(!screen.contains("wide-only"), "{screen}");
        assert!(!screen.contains("SECRET NOTE"), "{screen}");
        // And by its short name.
        command(&tmux, "overview");
        tmux.wait_for("the overview", WAIT, |s| s.contains("Overview(all)"));
        command(&tmux, "gdg");
        tmux.wait_for("the same view by short name", WAIT, |s| {
            s.contains("gadgets.kubedeck.test(all)[1]")
                && row(s, "cog-7").is_some_and(|r| r.contains("ultramarine"))
        });
    });
}
