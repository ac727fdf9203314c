//! Revealing a Secret's key through `reveal::reveal` against the simulator:
//! the value comes back decoded, and every attempt (shown, refused in
//! read-only mode, denied by RBAC, a missing key) is audited with the
//! secret and key but never the value.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kubedeck_core::actions::{ActionError, AuditLog, AuditResult, Executor, Record};
use kubedeck_core::reveal::{self, SecretKey};
use kubedeck_sim::config::{AuthMode, SimConfig};

const CONTEXT: &str = "kubedeck-sim";
const VALUE: &str = "correct-horse-battery-staple";
/// `VALUE` as the API stores it, base64.
const VALUE_B64: &str = "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZQ";

async fn client_for(ts: &crate::common::TestSim, context: &str) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(&ts.kubeconfig).expect("read the kubeconfig");
    let options = KubeConfigOptions {
        context: Some(context.into()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("a config for the context");
    config.default_retry = false;
    kube::Client::try_from(config).expect("a client")
}

fn records(log: &AuditLog) -> Vec<Record> {
    let c = log.read().expect("the audit log");
    assert!(c.bad_lines.is_empty(), "{:?}", c.bad_lines);
    c.records
}

fn assert_no_value(log: &AuditLog) {
    let text = std::fs::read_to_string(log.path()).expect("the audit log");
    assert!(
        !text.contains(VALUE) && !text.contains(VALUE_B64),
        "a value in the audit log: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_revealed_decoded_and_every_attempt_is_audited_without_the_value() {
    let ts = crate::common::start_with(
        "minimal",
        SimConfig {
            auth: AuthMode::Tokens {
                admin: "reveal-admin-token-0123456789".into(),
                viewer: "reveal-viewer-token-0123456789".into(),
            },
            ..SimConfig::default()
        },
    )
    .await;
    let admin = client_for(&ts, CONTEXT).await;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("db".into()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([
            (
                "password".to_string(),
                ByteString(VALUE.as_bytes().to_vec()),
            ),
            ("blob".to_string(), ByteString(vec![0xff, 0x00, 0x1b, 0x9b])),
        ])),
        ..Secret::default()
    };
    Api::<Secret>::namespaced(admin.clone(), "demo")
        .create(&PostParams::default(), &secret)
        .await
        .expect("the Secret is created");

    let log = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    let exec = Executor::new(admin.clone(), CONTEXT, "alice", false, log.clone());
    let password = SecretKey::new("demo", "db", "password");
    let shown = reveal::reveal(&exec, false, &password)
        .await
        .expect("revealed");
    assert_eq!(shown.bytes(), VALUE.as_bytes());
    let blob = reveal::reveal(&exec, false, &SecretKey::new("demo", "db", "blob"))
        .await
        .expect("revealed");
    assert_eq!(blob.bytes(), [0xff, 0x00, 0x1b, 0x9b], "bytes as stored");
    let missing = reveal::reveal(&exec, false, &SecretKey::new("demo", "db", "nope")).await;
    assert!(
        matches!(&missing, Err(ActionError::NotFound(m)) if m.contains("no key \"nope\"")),
        "{missing:?}"
    );
    let r = records(&log);
    let seen: Vec<(&str, &str, &str, &str, &serde_json::Value)> = r
        .iter()
        .map(|r| {
            (
                r.user.as_str(),
                r.context.as_str(),
                r.namespace.as_str(),
                r.object.as_str(),
                &r.parameters["key"],
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("alice", CONTEXT, "demo", "secret/db", &"password".into()),
            ("alice", CONTEXT, "demo", "secret/db", &"blob".into()),
            ("alice", CONTEXT, "demo", "secret/db", &"nope".into()),
        ]
    );
    assert!(r.iter().all(|r| r.action == reveal::ACTION));
    assert_eq!(r[0].result, AuditResult::Ok);
    assert!(matches!(r[2].result, AuditResult::Failed { .. }));
    assert_no_value(&log);

    // Read-only: refused and audited so, unless the config allows reveals.
    let ro_log = AuditLog::new(ts.dir.path().join("readonly.jsonl"));
    let readonly = Executor::new(admin.clone(), CONTEXT, "alice", true, ro_log.clone());
    let refused = reveal::reveal(&readonly, false, &password).await;
    assert!(
        matches!(refused, Err(ActionError::ReadOnly { .. })),
        "{refused:?}"
    );
    let allowed = reveal::reveal(&readonly, true, &password)
        .await
        .expect("allowed by the config");
    assert_eq!(allowed.bytes(), VALUE.as_bytes());
    // A broken config allows nothing, whatever it said.
    let blocked = Executor::new(admin, CONTEXT, "alice", false, ro_log.clone())
        .blocked_by(Some("config c.toml:1: bad".into()));
    let refused = reveal::reveal(&blocked, true, &password).await;
    assert!(
        matches!(refused, Err(ActionError::Blocked(_))),
        "{refused:?}"
    );
    let results: Vec<AuditResult> = records(&ro_log).into_iter().map(|r| r.result).collect();
    assert_eq!(
        results,
        [
            AuditResult::Refused {
                reason: "read-only".into()
            },
            AuditResult::Ok,
            AuditResult::Refused {
                reason: "config c.toml:1: bad".into()
            },
        ]
    );
    assert_no_value(&ro_log);

    // RBAC: the viewer may not get secrets, and is told so before any read.
    let viewer = client_for(&ts, "kubedeck-sim-viewer").await;
    let v_log = AuditLog::new(ts.dir.path().join("viewer.jsonl"));
    let as_viewer = Executor::new(viewer, CONTEXT, "viewer", false, v_log.clone());
    let denied = reveal::reveal(&as_viewer, false, &password).await;
    match &denied {
        Err(ActionError::Forbidden { what, .. }) => {
            assert_eq!(what, "get secrets in namespace demo")
        }
        other => panic!("RBAC refuses it: {other:?}"),
    }
    let r = records(&v_log);
    assert!(
        matches!(r.as_slice(), [one] if matches!(one.result, AuditResult::Denied { .. })),
        "{r:?}"
    );
    assert_no_value(&v_log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_that_cannot_be_audited_shows_nothing() {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let client = ts.client();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("db".into()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            "password".to_string(),
            ByteString(VALUE.as_bytes().to_vec()),
        )])),
        ..Secret::default()
    };
    Api::<Secret>::namespaced(client.clone(), "demo")
        .create(&PostParams::default(), &secret)
        .await
        .expect("the Secret is created");
    // A folder where the log should be: it cannot be written.
    let log = AuditLog::new(ts.dir.path().to_path_buf());
    let exec = Executor::new(client, CONTEXT, "alice", false, log);
    let result = reveal::reveal(&exec, false, &SecretKey::new("demo", "db", "password")).await;
    assert!(
        matches!(result, Err(ActionError::AuditUnavailable(_))),
        "{result:?}"
    );
}
