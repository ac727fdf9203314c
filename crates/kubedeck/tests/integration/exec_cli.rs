//! `kubedeck exec` against the simulator: the remote output and exit code
//! come through, read-only and RBAC refuse it, and the audit log records
//! the command but never the output.

use std::time::Duration;

use kubedeck_core::actions::{AuditLog, AuditResult, Record};
use kubedeck_sim::config::{AuthMode, SimConfig};

const WAIT: Duration = Duration::from_secs(30);

async fn web_pod(ts: &crate::common::TestSim) -> String {
    let pods = crate::common::wait_pods_ready(ts, "demo", "app=web", 2, None, WAIT).await;
    pods[0]["metadata"]["name"].as_str().unwrap().to_string()
}

fn exec_records(ts: &crate::common::TestSim) -> Vec<Record> {
    AuditLog::new(ts.dir.path().join("data/kubedeck/audit.jsonl"))
        .read()
        .unwrap()
        .records
        .into_iter()
        .filter(|r| r.action == "exec")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_prints_the_remote_output_and_exits_with_its_code() {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let pod = web_pod(&ts).await;

    let out = crate::common::kubedeck(&ts, &["exec", &pod, "-n", "demo", "--", "hostname"]).await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, format!("{pod}\n"));

    let out = crate::common::kubedeck(&ts, &["exec", &pod, "-n", "demo", "--", "env"]).await;
    assert!(out.stdout.contains(&format!("HOSTNAME={pod}\n")), "{out:?}");

    let out = crate::common::kubedeck(
        &ts,
        &[
            "exec",
            &pod,
            "-n",
            "demo",
            "--",
            "sh",
            "-c",
            "echo oops >&2; exit 3",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{out:?}");
    assert!(out.stderr.contains("oops\n"), "{out:?}");
    assert!(
        out.stderr.contains("command terminated with exit code 3"),
        "{out:?}"
    );

    let out = crate::common::kubedeck(&ts, &["exec", "nope", "-n", "demo", "--", "true"]).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("pods \"nope\" not found"), "{out:?}");

    // Audited with the command, never with what it printed.
    let records = exec_records(&ts);
    assert_eq!(records.len(), 4, "{records:?}");
    assert_eq!(records[0].object, format!("pod/{pod}"));
    assert_eq!(records[0].namespace, "demo");
    assert_eq!(records[0].result, AuditResult::Ok);
    assert_eq!(
        records[0].parameters["command"],
        serde_json::json!(["hostname"])
    );
    assert!(matches!(records[3].result, AuditResult::Failed { .. }));
    let log = std::fs::read_to_string(ts.dir.path().join("data/kubedeck/audit.jsonl")).unwrap();
    assert!(
        !log.contains("/usr/local/sbin"),
        "the env output leaked into the audit log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_is_refused_read_only_and_audited() {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let pod = web_pod(&ts).await;
    let out = crate::common::kubedeck(
        &ts,
        &["exec", &pod, "-n", "demo", "--readonly", "--", "hostname"],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("is read-only, so nothing was changed"),
        "{out:?}"
    );
    let records = exec_records(&ts);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0].result,
        AuditResult::Refused {
            reason: "read-only".into()
        }
    );
    assert_eq!(
        records[0].parameters["command"],
        serde_json::json!(["hostname"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_without_rbac_is_refused_with_a_clear_message_and_audited() {
    let config = SimConfig {
        auth: AuthMode::Tokens {
            admin: "exec-admin-token-0123456789".into(),
            viewer: "exec-viewer-token-0123456789".into(),
        },
        ..SimConfig::default()
    };
    let ts = crate::common::start_with("minimal", config).await;
    let pod = web_pod(&ts).await;
    let out = crate::common::kubedeck(
        &ts,
        &[
            "exec",
            &pod,
            "-n",
            "demo",
            "--context",
            "kubedeck-sim-viewer",
            "--",
            "hostname",
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("forbidden: you may not create pods/exec in namespace demo"),
        "{out:?}"
    );
    let records = exec_records(&ts);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].user, "viewer");
    assert!(
        matches!(records[0].result, AuditResult::Denied { .. }),
        "{records:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_i_feeds_stdin_to_the_command_and_its_end_ends_the_shell() {
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    let pod = web_pod(&ts).await;
    let args = ["exec", "-i", &pod, "-n", "demo", "--", "sh"];
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedeck"));
    cmd.args(args)
        .env("KUBECONFIG", &ts.kubeconfig)
        .env("HOME", ts.dir.path())
        .env("XDG_DATA_HOME", ts.dir.path().join("data"))
        .env("XDG_CONFIG_HOME", ts.dir.path().join("config"))
        .env_remove("KUBEDECK_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // No `exit`: the end of stdin ends the shell, as it does sh's.
    let out = crate::common::run_with_stdin(cmd, &args, "hostname\necho $HOSTNAME\n").await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, format!("{pod}\n{pod}\n"));
}
