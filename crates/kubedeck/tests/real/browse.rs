//! The generic view in tmux against the real API server: `:cm`, `:secret`
//! and a CRD's plural list their objects with the server's own columns
//! (the real Table, a CRD's printer columns), never a Secret's value but
//! the key `x` reveals, and follow changes made with kubectl with no key
//! pressed. The cluster runs out of process, so the tmux waits may block
//! this test's thread.

use std::time::Duration;

use kubedeck_sim::testing::tmux::{Tmux, require_tmux};

use crate::cluster::Cluster;

const LONG: Duration = Duration::from_secs(90);
const NS: &str = "real-browse";
const CRD: &str = "sprockets.realbrowse.kubedeck.io";
/// The Secret's value, as given and as the API stores it.
const VALUE: &str = "real-tier-only-4d1e";
const VALUE_B64: &str = "cmVhbC10aWVyLW9ubHktNGQxZQ";

const DEFINITION: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: sprockets.realbrowse.kubedeck.io
spec:
  group: realbrowse.kubedeck.io
  scope: Namespaced
  names: {plural: sprockets, singular: sprocket, kind: Sprocket, shortNames: [spk]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
    additionalPrinterColumns:
    - {name: Colour, type: string, jsonPath: .spec.colour}
    - {name: Teeth, type: integer, jsonPath: .spec.teeth}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
"#;

const OBJECTS: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1", b: "2"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
type: Opaque
stringData: {password: real-tier-only-4d1e}
---
apiVersion: realbrowse.kubedeck.io/v1
kind: Sprocket
metadata: {name: cog}
spec: {colour: vermilion, teeth: 12}
"#;

fn command(tmux: &Tmux, text: &str) {
    tmux.keys(&[":"]);
    tmux.type_text(text);
    tmux.keys(&["Enter"]);
}

/// The table's row naming `name`, if shown.
fn row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        l.split_whitespace()
            .any(|w| w == name || w == format!("│{name}"))
    })
}

/// The header line: the one naming `NAME`.
fn header(screen: &str) -> &str {
    screen
        .lines()
        .find(|l| l.contains("NAME"))
        .unwrap_or_default()
}

pub async fn the_generic_view_lists_real_objects_with_server_columns_and_follows_kubectl(
    c: &'static Cluster,
) {
    require_tmux();
    let ns = c.namespace(NS).await;
    c.apply(&ns, DEFINITION).await;
    c.kubectl(&[
        "wait",
        "--for=condition=Established",
        &format!("crd/{CRD}"),
        "--timeout=60s",
    ])
    .await
    .ok();
    c.apply(&ns, OBJECTS).await;
    let home = tempfile::tempdir().expect("temporary home");
    let tmux = Tmux::new("real-browse");
    tmux.start_console(
        env!("CARGO_BIN_EXE_kubedeck"),
        home.path(),
        &c.kubeconfig(),
        &format!("-n {ns}"),
        (160, 45),
    );

    tmux.wait_for("the console", LONG, |s| s.contains("Overview("));
    // Discovery answers after the first frame: wait for its list, the CRD in it.
    command(&tmux, "api-resources");
    tmux.keys(&["/"]);
    tmux.type_text("sprocket");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the real discovery, the CRD in it", LONG, |s| {
        row(s, "sprockets").is_some_and(|r| r.contains("spk"))
    });

    command(&tmux, "cm");
    let screen = tmux.wait_for("the ConfigMaps, with the real DATA column", LONG, |s| {
        s.contains(&format!("configmaps({NS})"))
            && row(s, "settings").is_some_and(|r| r.contains(" 2 "))
    });
    for column in ["NAME", "DATA", "AGE"] {
        assert!(header(&screen).contains(column), "{column}:\n{screen}");
    }
    c.kubectl(&[
        "create",
        "configmap",
        "added",
        "-n",
        NS,
        "--from-literal=x=1",
    ])
    .await
    .ok();
    tmux.wait_for("the new ConfigMap, no key pressed", LONG, |s| {
        row(s, "added").is_some_and(|r| r.contains(" 1 "))
    });
    c.kubectl(&["delete", "configmap", "settings", "-n", NS])
        .await
        .ok();
    tmux.wait_for("the deleted ConfigMap gone", LONG, |s| {
        row(s, "settings").is_none() && row(s, "added").is_some()
    });

    command(&tmux, "secret");
    let screen = tmux.wait_for("the Secret, with its type and key count", LONG, |s| {
        row(s, "creds").is_some_and(|r| r.contains("Opaque") && r.contains(" 1 "))
    });
    for column in ["NAME", "TYPE", "DATA", "AGE"] {
        assert!(header(&screen).contains(column), "{column}:\n{screen}");
    }
    assert!(
        !screen.contains(VALUE) && !screen.contains(VALUE_B64),
        "{screen}"
    );
    // Its one key revealed (no picker for one), decoded from what the real
    // server returns, and audited without the value.
    tmux.keys(&["x"]);
    tmux.wait_for("the value, decoded", LONG, |s| {
        s.contains("secret/creds key password (19 bytes, decoded")
            && s.lines().any(|l| l.trim_matches(['│', ' ']) == VALUE)
    });
    let audit =
        std::fs::read_to_string(home.path().join("data/kubedeck/audit.jsonl")).unwrap_or_default();
    assert!(
        audit.contains("\"action\":\"reveal-secret-key\"")
            && audit.contains("\"object\":\"secret/creds\"")
            && audit.contains("\"key\":\"password\""),
        "{audit}"
    );
    assert!(
        !audit.contains(VALUE) && !audit.contains(VALUE_B64),
        "{audit}"
    );
    tmux.escape();
    tmux.wait_for("the list again, the value gone", LONG, |s| {
        row(s, "creds").is_some() && !s.contains(VALUE)
    });
    c.kubectl(&[
        "create",
        "secret",
        "generic",
        "more",
        "-n",
        NS,
        "--from-literal=a=1",
        "--from-literal=b=2",
    ])
    .await
    .ok();
    tmux.wait_for("the new Secret, no key pressed", LONG, |s| {
        row(s, "more").is_some_and(|r| r.contains(" 2 "))
    });

    command(&tmux, "sprockets");
    let screen = tmux.wait_for("the Sprocket, with its printer columns", LONG, |s| {
        s.contains(&format!("sprockets.realbrowse.kubedeck.io({NS})[1]"))
            && row(s, "cog").is_some_and(|r| r.contains("vermilion") && r.contains("12"))
    });
    for column in ["NAME", "COLOUR", "TEETH", "AGE"] {
        assert!(header(&screen).contains(column), "{column}:\n{screen}");
    }
    // A change to a printer column's field: the real Table again, no key pressed.
    c.kubectl(&[
        "patch",
        "sprocket",
        "cog",
        "-n",
        NS,
        "--type=merge",
        "-p",
        r#"{"spec":{"colour":"ultramarine","teeth":40}}"#,
    ])
    .await
    .ok();
    tmux.wait_for("the changed cells", LONG, |s| {
        row(s, "cog").is_some_and(|r| r.contains("ultramarine") && r.contains("40"))
    });
    // And by its short name.
    command(&tmux, "spk");
    tmux.wait_for("the same view by short name", LONG, |s| {
        row(s, "cog").is_some_and(|r| r.contains("ultramarine"))
    });
    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", LONG, |s| s.contains("EXITED 0"));
    c.kubectl(&["delete", "crd", CRD, "--wait=false"])
        .await
        .ok();
}
