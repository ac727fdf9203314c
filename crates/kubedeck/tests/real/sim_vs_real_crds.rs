//! A CustomResourceDefinition and its objects, judged by the real
//! kube-apiserver: the same CRD and objects go to both, and what kubectl
//! prints and the server's Tables must match (but for ages).

use std::path::Path;

use kubedeck_sim::config::SimConfig;
use kubedeck_sim::testing::{Out, TestSim, run, run_with_stdin, start_with};
use serde_json::Value;

use crate::cluster::Cluster;

const NS: &str = "sim-vs-real-crds";
const CRD_NAME: &str = "gizmos.simvsreal.kubedeck.io";

/// Every column type, a filter path, a list printed as JSON, a missing
/// value, a priority-1 column and a second version without columns.
const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.simvsreal.kubedeck.io
spec:
  group: simvsreal.kubedeck.io
  scope: Namespaced
  names:
    plural: gizmos
    singular: gizmo
    kind: Gizmo
    shortNames: [gz]
    categories: [kubedeck]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ratio, type: number, jsonPath: .spec.ratio}
    - {name: Enabled, type: boolean, jsonPath: .spec.enabled}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Tags, type: string, jsonPath: .spec.tags, priority: 1}
    - {name: Owner, type: string, jsonPath: .spec.owner, description: Who looks after it}
    - {name: Since, type: date, jsonPath: .metadata.creationTimestamp}
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

const GIZMOS: &str = r#"
apiVersion: simvsreal.kubedeck.io/v1
kind: Gizmo
metadata: {name: alpha, labels: {tier: gold}}
spec: {size: 3, ratio: 0.5, enabled: true, tags: [a, b]}
---
apiVersion: simvsreal.kubedeck.io/v1
kind: Gizmo
metadata: {name: beta}
spec: {size: 7.9, ratio: 2, enabled: false, owner: ops}
"#;

/// Kinds the generic browser shows, whose Tables `sim_vs_real` does not
/// compare: an Ingress, a Secret and a claim (which kwok's stages bind
/// whatever its class, as the simulator does).
const BUILTINS: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: nginx
  tls: [{hosts: [web.example.com], secretName: web-tls}]
  rules:
  - host: web.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Secret
metadata: {name: web-tls}
type: kubernetes.io/tls
data: {tls.crt: Y2VydA==, tls.key: a2V5}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  storageClassName: no-such-class
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"#;

struct Side<'a> {
    name: &'static str,
    c: &'a Cluster,
    kubeconfig: &'a Path,
    client: kube::Client,
}

impl Side<'_> {
    async fn kubectl(&self, args: &[&str]) -> Out {
        run(self.c.kubectl_cmd(self.kubeconfig, args), args).await
    }

    async fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args).await;
        assert!(
            out.success,
            "{}: kubectl {args:?} failed: {}{}",
            self.name, out.stdout, out.stderr
        );
        out.stdout
    }

    async fn apply(&self, args: &[&str], input: &str) {
        let out = run_with_stdin(self.c.kubectl_cmd(self.kubeconfig, args), args, input).await;
        assert!(
            out.success,
            "{}: kubectl {args:?}: {}",
            self.name, out.stderr
        );
    }

    async fn get(&self, path: &str, accept: &str) -> Value {
        let req = http::Request::builder()
            .uri(path)
            .header("accept", accept)
            .body(Vec::new())
            .expect("a request");
        self.client
            .request(req)
            .await
            .unwrap_or_else(|e| panic!("{}: GET {path}: {e}", self.name))
    }

    /// An aggregated discovery group, its resources sorted by name.
    async fn aggregated_group(&self, path: &str, group: &str) -> Value {
        let list = self
            .get(
                path,
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
            )
            .await;
        let mut g = list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|i| i["metadata"]["name"] == group))
            .cloned()
            .unwrap_or_default();
        if let Some(versions) = g["versions"].as_array_mut() {
            for v in versions {
                if let Some(res) = v["resources"].as_array_mut() {
                    res.sort_by_key(|r| r["resource"].as_str().unwrap_or_default().to_string());
                }
            }
        }
        g
    }

    /// A Table answer, its ages blanked.
    async fn table(&self, path: &str) -> Value {
        let mut t = self
            .get(path, "application/json;as=Table;v=v1;g=meta.k8s.io")
            .await;
        let dates: Vec<usize> = t["columnDefinitions"]
            .as_array()
            .map(|cols| {
                cols.iter()
                    .enumerate()
                    .filter(|(_, c)| c["type"] == "date")
                    .map(|(i, _)| i)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(rows) = t["rows"].as_array_mut() {
            for row in rows {
                for i in &dates {
                    row["cells"][*i] = Value::from("<age>");
                }
                if let Some(m) = row["object"]["metadata"].as_object_mut() {
                    m.retain(|k, _| matches!(k.as_str(), "name" | "namespace" | "labels"));
                }
            }
        }
        t["metadata"] = Value::Null;
        t
    }
}

/// A bound claim's volume is named after the claim's uid, each cluster's
/// own: `pvc-<uid>`.
fn mask_volume_names(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("pvc-") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 4..];
        let uid = tail
            .find(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
            .unwrap_or(tail.len());
        if uid == 36 {
            out.push_str("pvc-<uid>");
        } else {
            out.push_str(&rest[i..i + 4 + uid]);
        }
        rest = &tail[uid..];
    }
    out.push_str(rest);
    out
}

/// kubectl's table with the AGE and SINCE cells and volume names blanked.
fn without_ages(text: &str) -> String {
    let header = text.lines().next().unwrap_or_default();
    // Where a header cell is exactly AGE or SINCE (not STORAGECLASS's "AGE").
    let age_cols: Vec<usize> = header
        .match_indices(|c: char| c != ' ')
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || header[..i].ends_with("  "))
        .filter(|&i| {
            let cell = header[i..].split("  ").next().unwrap_or_default();
            matches!(cell, "AGE" | "SINCE")
        })
        .collect();
    text.lines()
        .map(|l| {
            let mut l = l.to_string();
            for start in &age_cols {
                if l.len() > *start {
                    let end = l[*start..].find("  ").map_or(l.len(), |e| start + e);
                    l.replace_range(*start..end, "<age>");
                }
            }
            mask_volume_names(&l)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn custom_resources_print_the_same_on_the_simulator_and_the_real_one(
    c: &'static Cluster,
) {
    let ts: TestSim = start_with("minimal", SimConfig::default()).await;
    let real_kubeconfig = c.kubeconfig();
    let sim = Side {
        name: "sim",
        c,
        kubeconfig: &ts.kubeconfig,
        client: ts.client(),
    };
    let real = Side {
        name: "real",
        c,
        kubeconfig: &real_kubeconfig,
        client: c.client().await,
    };
    c.namespace(NS).await;
    sim.ok(&["create", "namespace", NS]).await;
    let mut diffs: Vec<String> = Vec::new();
    for side in [&sim, &real] {
        side.apply(&["apply", "-f", "-"], CRD).await;
        side.ok(&[
            "wait",
            "--for=condition=Established",
            &format!("crd/{CRD_NAME}"),
            "--timeout=60s",
        ])
        .await;
        side.apply(&["apply", "-n", NS, "-f", "-"], GIZMOS).await;
        side.apply(&["apply", "-n", NS, "-f", "-"], BUILTINS).await;
        side.ok(&[
            "patch",
            "gizmo",
            "alpha",
            "-n",
            NS,
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
        ])
        .await;
    }

    let v1 = format!("/apis/simvsreal.kubedeck.io/v1/namespaces/{NS}/gizmos");
    let beta = format!("/apis/simvsreal.kubedeck.io/v1beta1/namespaces/{NS}/gizmos");
    for path in [
        v1.clone(),
        format!("{v1}?includeObject=None"),
        format!("{v1}?includeObject=Object"),
        format!("{v1}/alpha"),
        beta.clone(),
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldSelector=metadata.name%3Dgizmos.simvsreal.kubedeck.io".to_string(),
    ] {
        let (s, r) = (sim.table(&path).await, real.table(&path).await);
        if s != r {
            diffs.push(format!("Table {path}:\n  sim  {s}\n  real {r}"));
        }
    }
    for (path, group) in [
        ("/apis", "simvsreal.kubedeck.io"),
        ("/apis", "apps"),
        ("/apis", "apiextensions.k8s.io"),
    ] {
        let (s, r) = (
            sim.aggregated_group(path, group).await,
            real.aggregated_group(path, group).await,
        );
        if s != r {
            diffs.push(format!(
                "aggregated discovery {path} {group:?}:\n  sim  {s}\n  real {r}"
            ));
        }
    }
    for path in [
        "/apis/simvsreal.kubedeck.io/v1",
        "/apis/simvsreal.kubedeck.io",
    ] {
        let (s, mut r) = (
            sim.get(path, "application/json").await,
            real.get(path, "application/json").await,
        );
        // The simulator leaves out storageVersionHash (a sha256 of the
        // storage kind, read only by the storage version migrator).
        if let Some(res) = r["resources"].as_array_mut() {
            for e in res {
                if let Some(m) = e.as_object_mut() {
                    m.remove("storageVersionHash");
                }
            }
        }
        if s != r {
            diffs.push(format!("discovery {path}:\n  sim  {s}\n  real {r}"));
        }
    }
    for args in [
        vec!["get", "gizmos", "-n", NS],
        vec!["get", "gz", "-n", NS, "-o", "wide"],
        vec!["get", "kubedeck", "-n", NS],
        vec!["get", "gizmos.v1beta1.simvsreal.kubedeck.io", "-n", NS],
        vec!["get", "gz", "-n", NS, "-l", "tier=gold"],
        vec!["api-resources", "--api-group=simvsreal.kubedeck.io"],
        vec!["get", "ing", "-n", NS, "-o", "wide"],
        vec!["get", "secret", "web-tls", "-n", NS, "-o", "wide"],
        vec!["get", "pvc", "-n", NS, "-o", "wide"],
        // Server-side dry runs answer as the real ones and change nothing.
        vec!["delete", "gz", "alpha", "-n", NS, "--dry-run=server"],
        vec![
            "patch",
            "gz",
            "beta",
            "-n",
            NS,
            "--type=merge",
            "-p",
            r#"{"spec":{"size":1}}"#,
            "--dry-run=server",
        ],
        vec!["get", "gz", "-n", NS],
    ] {
        let (s, r) = (sim.ok(&args).await, real.ok(&args).await);
        if without_ages(&s) != without_ages(&r) {
            diffs.push(format!("kubectl {args:?}:\n--- sim\n{s}--- real\n{r}"));
        }
    }
    // No strategic merge patch for custom resources, on either.
    let patch = [
        "patch",
        "gz",
        "beta",
        "-n",
        NS,
        "-p",
        r#"{"spec":{"size":1}}"#,
    ];
    let (s, r) = (sim.kubectl(&patch).await, real.kubectl(&patch).await);
    if (s.success, s.stderr.trim()) != (r.success, r.stderr.trim()) {
        diffs.push(format!("kubectl {patch:?}:\n  sim  {s:?}\n  real {r:?}"));
    }
    let crd_status = |v: Value| {
        let mut st = v["status"].clone();
        if let Some(conds) = st["conditions"].as_array_mut() {
            for c in conds {
                c["lastTransitionTime"] = Value::Null;
            }
        }
        st
    };
    let get_crd = ["get", "crd", CRD_NAME, "-o", "json"];
    let parse = |t: String| serde_json::from_str::<Value>(&t).unwrap_or_default();
    let s = crd_status(parse(sim.ok(&get_crd).await));
    let r = crd_status(parse(real.ok(&get_crd).await));
    if s != r {
        diffs.push(format!("CRD status:\n  sim  {s}\n  real {r}"));
    }

    for side in [&sim, &real] {
        side.ok(&["delete", "crd", CRD_NAME, "--wait=true"]).await;
    }
    let gone = ["get", "gizmos.v1.simvsreal.kubedeck.io", "-n", NS];
    let (s, r) = (sim.kubectl(&gone).await, real.kubectl(&gone).await);
    assert!(
        !r.success,
        "the real cluster still serves gizmos: {}",
        r.stdout
    );
    if s.success {
        diffs.push(format!("gizmos after the CRD's deletion: sim {}", s.stdout));
    }
    real.ok(&["delete", "namespace", NS, "--wait=false"]).await;
    assert!(
        diffs.is_empty(),
        "the simulator differs from the real cluster:\n{}",
        diffs.join("\n\n")
    );
}
