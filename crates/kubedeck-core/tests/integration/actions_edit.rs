//! An edit (`Command::Replace`) through plan and executor against the
//! simulator: the dry run's diff, the server's validation message, a change
//! made meanwhile refused as a conflict and never overwritten, read-only
//! refusal, and an audit record that names the edited paths but holds no
//! Secret value.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kubedeck_core::actions::edit::{self, Saved};
use kubedeck_core::actions::{
    ActionError, AuditLog, AuditResult, Command, Executor, ResourceRef, plan,
};
use kubedeck_core::config::Config;
use kubedeck_sim::config::SimConfig;
use serde_json::json;

const CONTEXT: &str = "kubedeck-sim";

struct Env {
    // Keeps the simulator (and its temporary directory) alive.
    ts: crate::common::TestSim,
    client: kube::Client,
    exec: Executor,
}

async fn env() -> Env {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let client = ts.client();
    let audit = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    let exec = Executor::new(client.clone(), CONTEXT, "admin", false, audit);
    Env { ts, client, exec }
}

fn resource(kind: &str, plural: &str, name: &str) -> ResourceRef {
    ResourceRef {
        group: String::new(),
        version: "v1".into(),
        kind: kind.into(),
        plural: plural.into(),
        namespace: Some("demo".into()),
        name: name.into(),
    }
}

impl Env {
    fn configmaps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), "demo")
    }

    async fn create_cm(&self, name: &str, mode: &str) {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": name},
            "data": {"mode": mode, "other": "kept"}
        }))
        .unwrap();
        self.configmaps()
            .create(&PostParams::default(), &cm)
            .await
            .unwrap();
    }

    /// What the console opens in the editor: the object read, stripped.
    async fn opened(&self, object: &ResourceRef) -> (String, String) {
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            "demo",
            &kube::api::ApiResource::from_gvk_with_plural(
                &kube::api::GroupVersionKind::gvk("", "v1", &object.kind),
                &object.plural,
            ),
        );
        let mut obj = serde_json::to_value(api.get(&object.name).await.unwrap()).unwrap();
        let rv = obj["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        edit::strip(&mut obj);
        (edit::to_yaml(&obj).unwrap(), rv)
    }

    /// The replace that saving `file` asks for.
    async fn edit(&self, object: &ResourceRef, change: impl Fn(&str) -> String) -> Command {
        let (yaml, rv) = self.opened(object).await;
        let file = change(&edit::editor_text(&yaml, &[]));
        match edit::saved(object, &rv, &yaml, "", &file).unwrap() {
            Saved::Edit(cmd) => *cmd,
            other => panic!("expected an edit, got {other:?}"),
        }
    }

    async fn mode(&self, name: &str) -> String {
        let cm = self.configmaps().get(name).await.unwrap();
        cm.data.unwrap()["mode"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_dry_run_shown_as_a_diff_then_replaced() {
    let env = env().await;
    env.create_cm("app", "blue").await;
    let object = resource("ConfigMap", "configmaps", "app");
    let cmd = env
        .edit(&object, |f| f.replace("mode: blue", "mode: green"))
        .await;
    let confirmation = plan(&env.client, CONTEXT, &Config::default(), cmd)
        .await
        .expect("the dry run accepts it");
    let diff = confirmation.diff();
    assert!(diff.contains(&"-  mode: blue".to_string()), "{diff:?}");
    assert!(diff.contains(&"+  mode: green".to_string()), "{diff:?}");
    assert_eq!(
        confirmation.kubectl(),
        "kubectl replace -f - -n demo --context kubedeck-sim"
    );
    // The dry run changed nothing.
    assert_eq!(env.mode("app").await, "blue");
    let applied = env
        .exec
        .execute(confirmation.confirm(None).unwrap())
        .await
        .expect("the replace lands");
    assert_eq!(applied.message, "configmap/app edited");
    assert_eq!(env.mode("app").await, "green");
    let cm = env.configmaps().get("app").await.unwrap();
    assert_eq!(cm.data.unwrap()["other"], "kept");
    let record = env.exec.audit.read().unwrap().records.pop().unwrap();
    assert_eq!(
        (
            record.action.as_str(),
            record.object.as_str(),
            &record.result
        ),
        ("edit", "configmap/app", &AuditResult::Ok)
    );
    assert_eq!(record.parameters["changed"], json!(["data.mode"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_validation_message_comes_back_from_the_dry_run() {
    let env = env().await;
    env.create_cm("app", "blue").await;
    let object = resource("ConfigMap", "configmaps", "app");
    let cmd = env
        .edit(&object, |f| f.replace("  mode: blue", "  bad key!: blue"))
        .await;
    let err = plan(&env.client, CONTEXT, &Config::default(), cmd)
        .await
        .unwrap_err();
    match &err {
        ActionError::Rejected(m) => assert!(
            m.contains("data[bad key!]") && m.contains("a valid config key must consist"),
            "{m}"
        ),
        other => panic!("expected the server's rejection, got {other:?}"),
    }
    assert_eq!(env.mode("app").await, "blue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_meanwhile_is_a_conflict_and_is_not_overwritten() {
    let env = env().await;
    env.create_cm("app", "blue").await;
    let object = resource("ConfigMap", "configmaps", "app");
    let cmd = env
        .edit(&object, |f| f.replace("mode: blue", "mode: green"))
        .await;
    let planned = plan(&env.client, CONTEXT, &Config::default(), cmd.clone())
        .await
        .expect("nothing changed yet");
    // Someone else changes it between the dry run and the confirm.
    env.configmaps()
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"mode": "red"}})),
        )
        .await
        .unwrap();
    let err = env
        .exec
        .execute(planned.confirm(None).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(&err, ActionError::Stale { object, .. } if object == "configmap/app"));
    assert!(err.to_string().contains("nothing was overwritten"), "{err}");
    assert_eq!(env.mode("app").await, "red", "the other change is kept");
    // Planned again, the dry run says so before any dialog.
    let err = plan(&env.client, CONTEXT, &Config::default(), cmd)
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::Stale { .. }), "{err:?}");
    let record = env.exec.audit.read().unwrap().records.pop().unwrap();
    assert!(
        matches!(&record.result, AuditResult::Failed { message } if message.starts_with("conflict:")),
        "{:?}",
        record.result
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_edit_lands_but_no_value_reaches_the_diff_or_the_audit_log() {
    let env = env().await;
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "data": {"password": "c2VjcmV0LW9uZQ==", "user": "YWRtaW4="}
    }))
    .unwrap();
    let secrets: Api<Secret> = Api::namespaced(env.client.clone(), "demo");
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let object = resource("Secret", "secrets", "db");
    let cmd = env
        .edit(&object, |f| {
            f.replace("c2VjcmV0LW9uZQ==", "c2VjcmV0LXR3bw==")
        })
        .await;
    let confirmation = plan(&env.client, CONTEXT, &Config::default(), cmd)
        .await
        .unwrap();
    let shown = confirmation.diff().join("\n");
    assert!(
        shown.contains("password: <hidden, 16 characters, edited>"),
        "{shown}"
    );
    for value in ["c2VjcmV0", "YWRtaW4"] {
        assert!(!shown.contains(value), "{shown}");
    }
    env.exec
        .execute(confirmation.confirm(None).unwrap())
        .await
        .unwrap();
    let now = secrets.get("db").await.unwrap();
    assert_eq!(
        now.data.unwrap()["password"].0,
        b"secret-two".to_vec(),
        "the edit landed"
    );
    let log = std::fs::read_to_string(env.exec.audit.path()).unwrap();
    for value in ["c2VjcmV0", "YWRtaW4", "secret-"] {
        assert!(!log.contains(value), "{log}");
    }
    assert!(log.contains("data.password"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_executor_refuses_an_edit_and_audits_it() {
    let env = env().await;
    env.create_cm("app", "blue").await;
    let object = resource("ConfigMap", "configmaps", "app");
    let cmd = env
        .edit(&object, |f| f.replace("mode: blue", "mode: green"))
        .await;
    let confirmation = plan(&env.client, CONTEXT, &Config::default(), cmd)
        .await
        .unwrap();
    let audit = AuditLog::new(env.ts.dir.path().join("ro.jsonl"));
    let readonly = Executor::new(env.client.clone(), CONTEXT, "viewer", true, audit.clone());
    let err = readonly
        .execute(confirmation.confirm(None).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::ReadOnly { .. }), "{err:?}");
    assert_eq!(env.mode("app").await, "blue");
    let record = audit.read().unwrap().records.pop().unwrap();
    assert_eq!(record.action, "edit");
    assert!(matches!(record.result, AuditResult::Refused { .. }));
}
