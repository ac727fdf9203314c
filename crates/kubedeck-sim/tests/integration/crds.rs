//! CustomResourceDefinitions: the real kubectl and kube-rs's discovery and
//! dynamic API against the simulator's custom kinds.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
    WatchEvent, WatchParams,
};
use kube::discovery::{Discovery, Scope};
use serde_json::{Value, json};

use crate::common::{TestSim, cell, row, table};

const WAIT: Duration = Duration::from_secs(30);

/// A namespaced kind with printer columns (one only for `-o wide`), a
/// short name, a category and two served versions.
const WIDGETS: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wg]
    categories: [fleet]
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
    - name: Size
      type: integer
      jsonPath: .spec.size
    - name: Ready
      type: string
      jsonPath: .status.conditions[?(@.type=="Ready")].status
    - name: Colour
      type: string
      priority: 1
      jsonPath: .spec.colour
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"#;

const WIDGET: &str = r#"
apiVersion: example.com/v1
kind: Widget
metadata:
  name: sprocket
  namespace: demo
  labels: {tier: gold}
spec:
  size: 3
  colour: blue
"#;

/// A cluster-scoped kind without printer columns.
const GADGETS: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.tools.example.org
spec:
  group: tools.example.org
  scope: Cluster
  names: {plural: gadgets, kind: Gadget}
  versions:
  - name: v1alpha1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: tools.example.org/v1alpha1
kind: Gadget
metadata: {name: wrench}
spec: {}
"#;

/// The Gadget CRD, without its object.
fn gadgets_crd() -> &'static str {
    GADGETS.split("---").next().unwrap_or_default()
}

async fn started() -> TestSim {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], WIDGETS).await.ok();
    ts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_lists_custom_resources_with_their_printer_columns() {
    let ts = started().await;
    let out = ts
        .kubectl(&[
            "wait",
            "--for=condition=Established",
            "crd/widgets.example.com",
        ])
        .await
        .ok();
    assert!(out.contains("condition met"), "{out}");
    let text = ts.kubectl(&["get", "crd"]).await.ok();
    let header: Vec<&str> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    // kube-apiserver 1.37's CRD columns (the real testbed's).
    assert_eq!(
        header,
        ["NAME", "SCOPE", "VERSIONS", "CREATED AT"],
        "{text}"
    );
    let crds = table(&text);
    let r = row(&crds, "NAME", "widgets.example.com");
    assert_eq!(cell(&crds, r, "SCOPE"), "Namespaced");
    assert_eq!(cell(&crds, r, "VERSIONS"), "v1(storage),v1beta1");

    let resources = ts
        .kubectl(&["api-resources", "--api-group=example.com"])
        .await
        .ok();
    let t = table(&resources);
    assert_eq!(
        t[0],
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    assert_eq!(
        t[1],
        ["widgets", "wg", "example.com/v1", "true", "Widget"],
        "{resources}"
    );

    ts.kubectl_stdin(&["apply", "-f", "-"], WIDGET).await.ok();
    ts.kubectl(&[
        "patch",
        "widget",
        "sprocket",
        "-n",
        "demo",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#,
    ])
    .await
    .ok();
    for name in ["widgets", "widget", "wg", "widgets.example.com", "fleet"] {
        let text = ts.kubectl(&["get", name, "-n", "demo"]).await.ok();
        let t = table(&text);
        assert_eq!(
            t[0],
            ["NAME", "SIZE", "READY", "AGE"],
            "kubectl get {name}\n{text}"
        );
        let r = row(&t, "NAME", "sprocket");
        assert_eq!(cell(&t, r, "SIZE"), "3");
        assert_eq!(cell(&t, r, "READY"), "True");
        // A date column is shown as an age, as kubectl shows Age.
        let age = cell(&t, r, "AGE");
        assert!(
            age.ends_with('s') || age.ends_with('m'),
            "age {age:?}\n{text}"
        );
    }
    let wide = table(
        &ts.kubectl(&["get", "wg", "-n", "demo", "-o", "wide"])
            .await
            .ok(),
    );
    assert_eq!(wide[0], ["NAME", "SIZE", "READY", "COLOUR", "AGE"]);
    let selected = ts
        .kubectl(&["get", "wg", "-A", "-l", "tier=gold", "-o", "name"])
        .await
        .ok();
    assert_eq!(selected.trim(), "widget.example.com/sprocket");
    let none = ts.kubectl(&["get", "wg", "-A", "-l", "tier=silver"]).await;
    assert!(none.success && none.stdout.is_empty(), "{none:?}");
    let by_name = ts
        .kubectl(&[
            "get",
            "wg",
            "-A",
            "--field-selector=metadata.name=sprocket",
            "-o",
            "name",
        ])
        .await
        .ok();
    assert_eq!(by_name.trim(), "widget.example.com/sprocket");

    // Custom resources have no strategic merge patch: kubectl's default
    // patch type is refused as kube-apiserver refuses it.
    let strategic = ts
        .kubectl(&[
            "patch",
            "wg",
            "sprocket",
            "-n",
            "demo",
            "-p",
            r#"{"spec":{"size":4}}"#,
        ])
        .await;
    assert!(!strategic.success);
    assert!(
        strategic.stderr.contains("application/merge-patch+json"),
        "{}",
        strategic.stderr
    );
    ts.kubectl(&[
        "patch",
        "wg",
        "sprocket",
        "-n",
        "demo",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/size","value":5}]"#,
    ])
    .await
    .ok();
    let got = ts
        .kubectl(&[
            "get",
            "widgets.v1beta1.example.com",
            "sprocket",
            "-n",
            "demo",
            "-o",
            "json",
        ])
        .await
        .json();
    assert_eq!(got["apiVersion"], "example.com/v1beta1");
    assert_eq!(got["spec"]["size"], 5);
    assert_eq!(got["metadata"]["generation"], 2, "{got}");

    // Server-side dry runs change nothing.
    let dry = ts
        .kubectl(&["delete", "wg", "sprocket", "-n", "demo", "--dry-run=server"])
        .await
        .ok();
    assert!(dry.contains("deleted (server dry run)"), "{dry}");
    ts.kubectl(&[
        "patch",
        "wg",
        "sprocket",
        "-n",
        "demo",
        "--type=merge",
        "-p",
        r#"{"spec":{"size":9}}"#,
        "--dry-run=server",
    ])
    .await
    .ok();
    let after = ts
        .kubectl(&["get", "wg", "sprocket", "-n", "demo", "-o", "json"])
        .await
        .json();
    assert_eq!(after["spec"]["size"], 5);

    // A redefined CRD (a new short name) keeps its objects.
    let renamed = WIDGETS.replace("shortNames: [wg]", "shortNames: [wg, wdg]");
    ts.kubectl_stdin(&["apply", "-f", "-"], &renamed).await.ok();
    let out = ts
        .kubectl(&["get", "wdg", "-n", "demo", "-o", "name"])
        .await
        .ok();
    assert_eq!(out.trim(), "widget.example.com/sprocket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_scoped_kinds_print_age_by_default_and_go_with_their_crd() {
    let ts = started().await;
    // As with kube-apiserver, a CRD's objects go in once it is applied, not
    // in the same kubectl run.
    ts.kubectl_stdin(&["apply", "-f", "-"], gadgets_crd())
        .await
        .ok();
    ts.kubectl_stdin(&["apply", "-f", "-"], GADGETS).await.ok();
    let text = ts.kubectl(&["get", "gadgets"]).await.ok();
    let t = table(&text);
    assert_eq!(t[0], ["NAME", "AGE"], "{text}");
    row(&t, "NAME", "wrench");
    let namespaced = ts
        .kubectl(&["get", "gadgets", "-n", "demo", "-o", "json"])
        .await
        .json();
    assert_eq!(namespaced["items"][0]["metadata"]["name"], "wrench");

    ts.kubectl(&["delete", "crd", "gadgets.tools.example.org"])
        .await
        .ok();
    let gone = ts.kubectl(&["get", "gadgets"]).await;
    assert!(!gone.success);
    // kubectl's discovery cache still knows the kind; the server does not.
    assert!(
        gone.stderr
            .contains("the server could not find the requested resource"),
        "{}",
        gone.stderr
    );
    // Created again, it starts empty: its objects went with it.
    ts.kubectl_stdin(&["apply", "-f", "-"], gadgets_crd())
        .await
        .ok();
    let again = ts.kubectl(&["get", "gadgets", "-o", "json"]).await.json();
    assert_eq!(again["items"], json!([]), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_refuses_an_invalid_crd_with_the_servers_reasons() {
    let ts = started().await;
    let bad = WIDGETS.replace("name: widgets.example.com", "name: widget.example.com");
    let out = ts.kubectl_stdin(&["apply", "-f", "-"], &bad).await;
    assert!(!out.success);
    assert!(
        out.stderr
            .contains("must be spec.names.plural+\".\"+spec.group"),
        "{}",
        out.stderr
    );
}

/// The object of the watch's next event of this type (others are skipped).
async fn next_event(
    events: &mut (impl futures::Stream<Item = kube::Result<WatchEvent<DynamicObject>>> + Unpin),
    kind: &str,
) -> DynamicObject {
    let found = tokio::time::timeout(WAIT, async {
        while let Some(ev) = events.try_next().await.expect("a watch event") {
            match (kind, ev) {
                ("ADDED", WatchEvent::Added(o)) | ("DELETED", WatchEvent::Deleted(o)) => return o,
                _ => {}
            }
        }
        panic!("the watch ended before a {kind} event");
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {kind} event within {WAIT:?}"))
}

fn widget_resource(discovery: &Discovery) -> (ApiResource, Scope) {
    let group = discovery
        .get("example.com")
        .expect("discovery has the example.com group");
    let (ar, caps) = group.recommended_kind("Widget").expect("Widget is served");
    (ar, caps.scope)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_discovery_and_the_dynamic_api_serve_custom_kinds() {
    let ts = started().await;
    let client = ts.client();
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let (ar, scope) = widget_resource(&discovery);
    assert_eq!(
        (ar.api_version.as_str(), ar.plural.as_str()),
        ("example.com/v1", "widgets")
    );
    assert_eq!(scope, Scope::Namespaced);

    // Aggregated discovery (one request for every group) agrees.
    let aggregated = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let (agg_ar, agg_scope) = widget_resource(&aggregated);
    assert_eq!(agg_ar, ar);
    assert_eq!(agg_scope, Scope::Namespaced);
    let (pods, caps) = aggregated
        .get("")
        .and_then(|core| core.recommended_kind("Pod"))
        .expect("the core group serves pods");
    assert_eq!(pods.plural, "pods");
    assert!(
        caps.subresources
            .iter()
            .any(|(s, _)| s.plural == "pods/log" || s.plural == "log")
    );

    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "demo", &ar);
    let events = api
        .watch(&WatchParams::default().labels("tier=gold"), "0")
        .await
        .expect("watch");
    let mut events = Box::pin(events);
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "cog", "labels": {"tier": "gold"}},
        "spec": {"size": 1},
    }))
    .expect("a widget");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("create");
    api.create(
        &PostParams::default(),
        &DynamicObject::new("plain", &ar).within("demo"),
    )
    .await
    .expect("create unlabelled");
    let first = next_event(&mut events, "ADDED").await;
    assert_eq!(first.metadata.name.as_deref(), Some("cog"));
    let listed = api
        .list(&ListParams::default().labels("tier=gold"))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);

    let patched = api
        .patch(
            "cog",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 2}})),
        )
        .await
        .expect("merge patch");
    assert_eq!(patched.data["spec"]["size"], 2);
    let mut current = api.get("cog").await.expect("get");
    current.data["spec"]["size"] = json!(7);
    let replaced = api
        .replace("cog", &PostParams::default(), &current)
        .await
        .expect("replace");
    assert_eq!(replaced.data["spec"]["size"], 7);
    let stale = api.replace("cog", &PostParams::default(), &current).await;
    assert!(matches!(stale, Err(kube::Error::Api(e)) if e.code == 409));

    // Deleting the CRD deletes its objects, and watchers see them go.
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .expect("delete CRD");
    let deleted = next_event(&mut events, "DELETED").await;
    assert_eq!(deleted.metadata.name.as_deref(), Some("cog"));
    let rediscovered = Discovery::new(client).run().await.expect("discovery");
    assert!(rediscovered.get("example.com").is_none());
}

/// A request's JSON answer, with this Accept header.
async fn get_as(ts: &TestSim, path: &str, accept: &str) -> Value {
    let req = axum::http::Request::builder()
        .uri(path)
        .header("accept", accept)
        .body(kube::client::Body::empty())
        .expect("a request");
    let resp = ts.client().send(req).await.expect("the server answers");
    assert_eq!(resp.status().as_u16(), 200, "GET {path}");
    let bytes = resp.into_body().collect_bytes().await.expect("a body");
    serde_json::from_slice(&bytes).expect("JSON")
}

const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_of_custom_resources_honour_include_object() {
    let ts = started().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], WIDGET).await.ok();
    let path = "/apis/example.com/v1/namespaces/demo/widgets";
    let t = get_as(&ts, path, TABLE).await;
    let names: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Name", "Size", "Ready", "Colour", "Age"]);
    assert_eq!(t["columnDefinitions"][3]["priority"], 1);
    assert_eq!(
        t["columnDefinitions"][1]["description"],
        "Custom resource definition column (in JSONPath format): .spec.size"
    );
    let cells = &t["rows"][0]["cells"];
    assert_eq!(cells[0], "sprocket");
    assert_eq!(cells[1], 3);
    assert_eq!(cells[2], Value::Null);
    assert_eq!(cells[3], "blue");
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");

    let none = get_as(&ts, &format!("{path}?includeObject=None"), TABLE).await;
    assert!(none["rows"][0].get("object").is_none(), "{none}");
    let full = get_as(&ts, &format!("{path}?includeObject=Object"), TABLE).await;
    assert_eq!(full["rows"][0]["object"]["spec"]["colour"], "blue");
    let beta = get_as(
        &ts,
        "/apis/example.com/v1beta1/namespaces/demo/widgets?includeObject=Object",
        TABLE,
    )
    .await;
    assert_eq!(
        beta["rows"][0]["object"]["apiVersion"],
        "example.com/v1beta1"
    );
    // v1beta1 has no printer columns: Name and Age.
    assert_eq!(beta["columnDefinitions"][1]["name"], "Age");
    assert_eq!(beta["columnDefinitions"][1]["type"], "date");

    // A watch as Table sends one-row tables, without objects when asked.
    let req = axum::http::Request::builder()
        .uri(format!("{path}?watch=true&includeObject=None"))
        .header("accept", TABLE)
        .body(Vec::new())
        .expect("a request");
    let stream = ts.client().request_stream(req).await.expect("a watch");
    let mut lines = Box::pin(futures::AsyncBufReadExt::lines(stream));
    let first = lines.next().await.expect("an event").expect("a line");
    let ev: Value = serde_json::from_str(&first).expect("an event line");
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"]["kind"], "Table");
    assert_eq!(ev["object"]["rows"][0]["cells"][0], "sprocket");
    assert!(ev["object"]["rows"][0].get("object").is_none(), "{ev}");
}
