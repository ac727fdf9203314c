//! Issue #19, headless: kubedeck fails closed. A config.toml it cannot use
//! refuses every change (naming the file, line and problem); an audit log
//! it cannot write stops the action before it runs; cluster text (a pod's
//! log) reaches the terminal without escape sequences.

use std::time::Duration;

use crate::common::{TestSim, kubedeck};

const WAIT: Duration = Duration::from_secs(60);

/// The names of the pods of deployment/web in demo that are not being deleted.
async fn live_web_pods(ts: &TestSim) -> Vec<String> {
    let mut names: Vec<String> = crate::common::pods_json(ts, "demo", "app=web")
        .await
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    names
}

async fn jobs(ts: &TestSim) -> String {
    ts.kubectl(&["get", "jobs", "-n", "default", "-o", "name"])
        .await
        .ok()
}

fn backup_cronjob(name: &str, command: &str) -> String {
    format!(
        "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: default
spec:
  schedule: '0 2 * * *'
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: backup
            image: postgres:16.4
            command: [/bin/sh, -c, {command}]
"
    )
}

/// A runbook that annotates deployment/web: one action through the executor.
const ANNOTATE: &str = "\
title: Annotate web
namespace: demo
steps:
  - id: mark
    name: Mark web
    action:
      annotate:
        target: deployment/web
        key: example.com/marked
        value: \"yes\"
";

/// The case: `readonly = true` next to a typo once dropped the
/// whole file, and `chaos pod-kill --yes` killed a pod with exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_refuses_every_change_and_says_where() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob(
            "shop-backup",
            "'pg_dump -h postgres -U app -d shop > /backups/x.sql'",
        ),
    )
    .await
    .ok();
    let dir = ts.dir.path().join("config/kubedeck");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(&config, "readonly = true\nthem = \"dark\"\n").unwrap();
    let before = live_web_pods(&ts).await;
    let at = format!("config {}:2: unknown field `them`", config.display());

    let chaos = kubedeck(
        &ts,
        &["chaos", "pod-kill", "deployment/web", "-n", "demo", "--yes"],
    )
    .await;
    assert!(!chaos.success, "stdout:\n{}", chaos.stdout);
    assert!(chaos.stderr.contains(&at), "{}", chaos.stderr);
    assert!(
        chaos
            .stderr
            .contains("kubedeck changes nothing until the file is fixed"),
        "{}",
        chaos.stderr
    );
    assert_eq!(live_web_pods(&ts).await, before, "no pod was killed");

    let backup = kubedeck(
        &ts,
        &["backup", "run", "cronjob/shop-backup", "-n", "default"],
    )
    .await;
    assert!(!backup.success, "stdout:\n{}", backup.stdout);
    assert!(backup.stderr.contains(&at), "{}", backup.stderr);
    assert!(
        !jobs(&ts).await.contains("shop-backup"),
        "no job was created"
    );

    let annotate = ts.write_file("annotate.yaml", ANNOTATE);
    let runbook = kubedeck(
        &ts,
        &["runbook", "run", annotate.to_str().unwrap(), "--yes"],
    )
    .await;
    assert!(!runbook.success, "stdout:\n{}", runbook.stdout);
    assert!(runbook.stdout.contains(&at), "{}", runbook.stdout);
    let marked = ts
        .kubectl(&[
            "get",
            "deployment",
            "web",
            "-n",
            "demo",
            "-o",
            "jsonpath={.metadata.annotations.example\\.com/marked}",
        ])
        .await
        .ok();
    assert_eq!(marked, "", "the runbook's action was refused");

    // Fixed, the same command acts again.
    std::fs::write(&config, "readonly = false\n").unwrap();
    let fixed = kubedeck(
        &ts,
        &["backup", "run", "cronjob/shop-backup", "-n", "default"],
    )
    .await;
    assert!(fixed.success, "stderr:\n{}", fixed.stderr);
}

/// An action whose audit record cannot be written does not run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_audit_log_stops_every_action() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob(
            "shop-backup",
            "'pg_dump -h postgres -U app -d shop > /backups/x.sql'",
        ),
    )
    .await
    .ok();
    // A folder where the log should be: no file can be opened there, even
    // by root.
    let log = ts.dir.path().join("data/kubedeck/audit.jsonl");
    std::fs::create_dir_all(&log).unwrap();
    let cannot = format!("the audit log {} cannot be written", log.display());
    let before = live_web_pods(&ts).await;

    let chaos = kubedeck(
        &ts,
        &["chaos", "pod-kill", "deployment/web", "-n", "demo", "--yes"],
    )
    .await;
    assert!(!chaos.success, "stdout:\n{}", chaos.stdout);
    assert!(chaos.stderr.contains(&cannot), "{}", chaos.stderr);
    assert_eq!(live_web_pods(&ts).await, before, "no pod was killed");

    let backup = kubedeck(
        &ts,
        &["backup", "run", "cronjob/shop-backup", "-n", "default"],
    )
    .await;
    assert!(!backup.success, "stdout:\n{}", backup.stdout);
    assert!(backup.stderr.contains(&cannot), "{}", backup.stderr);
    assert!(
        !jobs(&ts).await.contains("shop-backup"),
        "no job was created"
    );

    let annotate = ts.write_file("annotate.yaml", ANNOTATE);
    let runbook = kubedeck(
        &ts,
        &["runbook", "run", annotate.to_str().unwrap(), "--yes"],
    )
    .await;
    assert!(!runbook.success, "stdout:\n{}", runbook.stdout);
    assert!(runbook.stdout.contains(&cannot), "{}", runbook.stdout);
    let marked = ts
        .kubectl(&[
            "get",
            "deployment",
            "web",
            "-n",
            "demo",
            "-o",
            "jsonpath={.metadata.annotations.example\\.com/marked}",
        ])
        .await
        .ok();
    assert_eq!(marked, "", "the runbook's action did not run");
}

/// The case: a backup's log with OSC 0 (window title) and OSC 52
/// (clipboard) sequences went to the terminal as is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_run_wait_prints_no_escape_sequence() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], crate::common::POSTGRES)
        .await
        .ok();
    // The simulated pg_dump logs the file it writes, so the file name
    // carries the sequences into the pod's log.
    let hostile = "\"pg_dump -h postgres -U app -d shop --file='/backups/a\\e]0;pwned\\ab\\e]52;c;ZXZpbA==\\ac.dump'\"";
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob("shop-backup", hostile),
    )
    .await
    .ok();
    crate::common::wait_pods_ready(&ts, "default", "app=postgres", 1, None, WAIT).await;

    let out = kubedeck(
        &ts,
        &[
            "backup",
            "run",
            "cronjob/shop-backup",
            "-n",
            "default",
            "--wait",
            "--timeout",
            "60s",
        ],
    )
    .await;
    assert!(
        out.stdout.contains("backup written to /backups/abc.dump"),
        "the log line is printed, its sequences removed:\n{:?}",
        out.stdout
    );
    assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    assert!(!out.stdout.contains('\u{7}'), "{:?}", out.stdout);
}

/// A runbook whose one check asks Prometheus.
const PROMQL: &str = "\
title: Ask Prometheus
steps:
  - id: errors
    name: Errors are low
    check:
      promql:
        query: sum(rate(http_requests_total[5m]))
        op: \"<\"
        threshold: 1
";

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The case: a Prometheus URL with `user:pass@` showed the
/// password in the output and the reports. Reports and incident logs are
/// the user's alone, and an audit log readable by others is tightened.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_masked_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let ts = crate::common::start().await;
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    let closed = kubedeck_sim::testing::ClosedPort::new();
    let port = closed.port();
    let prometheus = format!("http://kubedeck:s3cr3t@127.0.0.1:{port}");
    let masked = format!("http://kubedeck:***@127.0.0.1:{port}");
    let log = ts.dir.path().join("data/kubedeck/audit.jsonl");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, "").unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();

    let report = ts.dir.path().join("kill.md");
    let chaos = kubedeck(
        &ts,
        &[
            "chaos",
            "pod-kill",
            "deployment/web",
            "-n",
            "demo",
            "--yes",
            "--prometheus",
            &prometheus,
            "--report",
            report.to_str().unwrap(),
        ],
    )
    .await;
    assert!(
        chaos.success,
        "stdout:\n{}\nstderr:\n{}",
        chaos.stdout, chaos.stderr
    );
    assert!(
        chaos.stdout.contains("service 5xx ratio"),
        "Prometheus was asked:\n{}",
        chaos.stdout
    );
    assert!(
        chaos.stderr.contains(&format!(
            "the audit log {} was readable by others (mode 644); it is now 0600",
            log.display()
        )),
        "{}",
        chaos.stderr
    );
    assert_eq!(mode(&log), 0o600);
    let json = report.with_extension("json");
    let source = format!("\"source\": \"{masked}\"");
    let saved = std::fs::read_to_string(&json).unwrap();
    assert!(saved.contains(&source), "{saved}");
    for file in [&report, &json] {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(!text.contains("s3cr3t"), "{}:\n{text}", file.display());
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert!(!chaos.stdout.contains("s3cr3t"), "{}", chaos.stdout);
    assert!(!chaos.stderr.contains("s3cr3t"), "{}", chaos.stderr);

    let runbook = ts.write_file("promql.yaml", PROMQL);
    let run = kubedeck(
        &ts,
        &[
            "runbook",
            "run",
            runbook.to_str().unwrap(),
            "--prometheus",
            &prometheus,
        ],
    )
    .await;
    assert!(run.stdout.contains(&masked), "{}", run.stdout);
    assert!(!run.stdout.contains("s3cr3t"), "{}", run.stdout);
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
    let incident = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("incident log: "))
        .expect("an incident log");
    let text = std::fs::read_to_string(incident).unwrap();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert_eq!(mode(std::path::Path::new(incident)), 0o600);
}

/// The case: a kubeconfig `exec` credential plugin that never
/// answers hung start-up forever without a word.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_credential_plugin_is_named_after_the_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("plugin.pid");
    let plugin = dir.path().join("hang-login");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho $$ > {}\nexec sleep 600\n",
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: 'http://127.0.0.1:1'}}
users:
- name: sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: {}
      args: [--profile, prod]
      interactiveMode: Never
contexts:
- name: prod-sso
  context: {{cluster: c, user: sso}}
current-context: prod-sso
",
            plugin.display()
        ),
    )
    .unwrap();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedeck"));
    let args = ["backup", "list", "-n", "default"];
    cmd.args(args)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("KUBEDECK_EXEC_TIMEOUT", "1s")
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    // The plugin outlives kubedeck (it cannot be cancelled): end it when
    // the test ends, passed or not.
    struct EndPlugin(std::path::PathBuf);
    impl Drop for EndPlugin {
        fn drop(&mut self) {
            if let Ok(pid) = std::fs::read_to_string(&self.0) {
                let _ = std::process::Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
    let _end = EndPlugin(pid_file.clone());
    let out = crate::common::run(cmd, &args).await;
    assert!(!out.success, "stdout:\n{}", out.stdout);
    let want = format!(
        "the credential plugin of context \"prod-sso\" (`{} --profile prod`) did not finish within 1.00s",
        plugin.display()
    );
    assert!(out.stderr.contains(&want), "{}", out.stderr);
    assert!(
        out.stderr.contains("KUBEDECK_EXEC_TIMEOUT"),
        "{}",
        out.stderr
    );
}

/// The case: `PROD` did not protect `prod`; patterns ignore case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_context_patterns_ignore_case() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob(
            "shop-backup",
            "'pg_dump -h postgres -U app -d shop > /backups/x.sql'",
        ),
    )
    .await
    .ok();
    let dir = ts.dir.path().join("config/kubedeck");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "protected-contexts = [\"KUBEDECK-*\"]\n",
    )
    .unwrap();
    let out = kubedeck(
        &ts,
        &["backup", "run", "cronjob/shop-backup", "-n", "default"],
    )
    .await;
    assert!(!out.success, "stdout:\n{}", out.stdout);
    assert!(
        out.stderr
            .contains("context kubedeck-sim is protected: pass --confirm-name shop-backup"),
        "{}",
        out.stderr
    );
    assert!(
        !jobs(&ts).await.contains("shop-backup"),
        "no job was created"
    );
    let confirmed = kubedeck(
        &ts,
        &[
            "backup",
            "run",
            "cronjob/shop-backup",
            "-n",
            "default",
            "--confirm-name",
            "shop-backup",
        ],
    )
    .await;
    assert!(confirmed.success, "stderr:\n{}", confirmed.stderr);
}
