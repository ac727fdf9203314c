//! An edit (`Command::Replace`) against the real API server and the
//! simulator side by side: the server-side dry run of a ConfigMap replace
//! (accepted, nothing stored; an invalid key refused with the server's
//! message) and a replace at a stale resourceVersion (409, nothing
//! overwritten) must answer alike on both.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kubedeck_core::actions::edit::{self, Saved};
use kubedeck_core::actions::{ActionError, AuditLog, Command, Executor, ResourceRef, plan};
use kubedeck_core::config::Config;
use kubedeck_sim::config::SimConfig;
use kubedeck_sim::testing::start_with;
use serde_json::json;

use crate::cluster::{CONTEXT, Cluster};

const NS: &str = "edit-vs-real";

fn app() -> ResourceRef {
    ResourceRef {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
        plural: "configmaps".into(),
        namespace: Some(NS.into()),
        name: "app".into(),
    }
}

/// The edit the console would make of `app`: its YAML as opened, `change`d.
async fn edit_of(client: &kube::Client, change: impl Fn(&str) -> String) -> Command {
    let api: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        NS,
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("", "v1", "ConfigMap"),
            "configmaps",
        ),
    );
    let mut obj = serde_json::to_value(api.get("app").await.expect("app")).expect("json");
    let rv = obj["metadata"]["resourceVersion"]
        .as_str()
        .expect("rv")
        .to_string();
    edit::strip(&mut obj);
    let yaml = edit::to_yaml(&obj).expect("yaml");
    match edit::saved(&app(), &rv, &yaml, "", &change(&yaml)).expect("a valid file") {
        Saved::Edit(cmd) => *cmd,
        other => panic!("expected an edit, got {other:?}"),
    }
}

/// What one server answers through the edit's path, in words to compare.
async fn answers(client: kube::Client, home: &std::path::Path) -> Vec<(String, String)> {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let mode = |cms: Api<ConfigMap>| async move {
        cms.get("app").await.expect("app").data.expect("data")["mode"].clone()
    };
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "app"}, "data": {"mode": "blue"}
    }))
    .expect("a ConfigMap");
    cms.create(&PostParams::default(), &cm)
        .await
        .expect("created");
    let audit = AuditLog::new(home.join("audit.jsonl"));
    let exec = Executor::new(client.clone(), CONTEXT, "admin", false, audit);
    let mut seen = Vec::new();

    // A valid edit: the dry run accepts it and stores nothing.
    let green = edit_of(&client, |y| y.replace("mode: blue", "mode: green")).await;
    let planned = plan(&client, CONTEXT, &Config::default(), green)
        .await
        .expect("the dry run accepts a valid edit");
    // Context lines carry timestamps of each server's own; the changes not.
    let changes: Vec<&str> = planned
        .diff()
        .iter()
        .filter(|l| l.starts_with(['+', '-']))
        .map(String::as_str)
        .collect();
    seen.push(("dry run diff".into(), changes.join("\n")));
    seen.push(("after the dry run".into(), mode(cms.clone()).await));
    // What a dry run answers: the object as it would be stored.
    let current = cms.get("app").await.expect("app");
    let mut sent = current.clone();
    sent.data = Some([("mode".to_string(), "green".to_string())].into());
    sent.metadata.uid = None;
    sent.metadata.creation_timestamp = None;
    let dry = cms
        .replace(
            "app",
            &PostParams {
                dry_run: true,
                field_manager: None,
            },
            &sent,
        )
        .await
        .expect("a dry-run replace");
    seen.push((
        "dry run answer".into(),
        format!(
            "mode {} uid kept {} created kept {} resourceVersion kept {}",
            dry.data.unwrap_or_default()["mode"],
            dry.metadata.uid == current.metadata.uid,
            dry.metadata.creation_timestamp == current.metadata.creation_timestamp,
            dry.metadata.resource_version == current.metadata.resource_version,
        ),
    ));

    // An invalid key: the server's own message.
    let bad = edit_of(&client, |y| y.replace("  mode: blue", "  bad key!: blue")).await;
    let refused = plan(&client, CONTEXT, &Config::default(), bad).await;
    seen.push(("invalid key".into(), format!("{refused:?}")));

    // Someone else changes it before the confirm: the replace, at the
    // version read, is refused and overwrites nothing.
    cms.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"mode": "red"}})),
    )
    .await
    .expect("patched");
    let stale = exec
        .execute(planned.confirm(None).expect("confirmed"))
        .await;
    match &stale {
        Err(ActionError::Stale { object, message }) => {
            seen.push(("stale replace".into(), format!("{object}: {message}")));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    seen.push(("after the stale replace".into(), mode(cms.clone()).await));
    // And its dry run says so too, before any dialog.
    let again = edit_of(&client, |y| y.replace("mode: red", "mode: green")).await;
    cms.patch(
        "app",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"mode": "yellow"}})),
    )
    .await
    .expect("patched");
    let dry = plan(&client, CONTEXT, &Config::default(), again).await;
    seen.push(("stale dry run".into(), format!("{dry:?}")));
    seen
}

pub async fn a_configmap_replace_dry_run_and_stale_version_answer_alike_on_the_simulator_and_the_real_one(
    c: &'static Cluster,
) {
    let ts = start_with("minimal", SimConfig::default()).await;
    let home = tempfile::tempdir().expect("temporary directory");
    c.namespace(NS).await;
    let made = ts.kubectl(&["create", "namespace", NS]).await;
    assert!(made.success, "{made:?}");
    let sim = answers(ts.client(), &home.path().join("sim")).await;
    let real = answers(c.client().await, &home.path().join("real")).await;
    for ((what, s), (_, r)) in sim.iter().zip(&real) {
        assert_eq!(
            s, r,
            "{what}: the simulator answers otherwise than the real server"
        );
    }
    assert_eq!(sim.len(), real.len());
    // And what they agree on is what kubectl edit users expect.
    let get = |what: &str| {
        real.iter()
            .find(|(w, _)| w == what)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert!(
        get("dry run diff").contains("-  mode: blue\n+  mode: green"),
        "{real:?}"
    );
    assert_eq!(get("after the dry run"), "blue");
    assert!(
        get("invalid key").contains("a valid config key must consist of alphanumeric characters"),
        "{real:?}"
    );
    assert!(
        get("stale replace").contains("the object has been modified"),
        "{real:?}"
    );
    assert_eq!(get("after the stale replace"), "red");
    assert!(get("stale dry run").contains("Stale"), "{real:?}");
}
