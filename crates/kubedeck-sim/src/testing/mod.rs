//! Helpers for acceptance tests, this crate's and its dependants': an
//! in-process simulated cluster per test, a kubeconfig and a private kubectl
//! cache for it, kubectl runs with a timeout, waiting for a state with a
//! deadline, and a real Prometheus scraping a simulator. A failed step
//! panics: in a test that is the failure, with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cascade;
mod closed_port;
pub mod drain;
pub mod fault_proxy;
pub mod http_fault_proxy;
pub mod prometheus;
pub mod tmux;
mod watch;

pub use closed_port::ClosedPort;
pub use watch::watch_until;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::config::{AuthMode, SimConfig};
use crate::{self as sim, Sim, SimOptions};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const KUBECTL: &str = "/usr/bin/kubectl";

/// How long one kubectl run may take before the test fails.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(90);

/// Fails the test with a clear message when kubectl is missing: the suite
/// tests against the real client, so skipping would hide a broken machine.
pub fn require_kubectl() {
    assert!(
        Path::new(KUBECTL).exists(),
        "{KUBECTL} is missing: these tests run the real kubectl against the simulator; install kubectl there"
    );
}

/// One simulated cluster with its own temporary directory, kubeconfig and
/// kubectl discovery cache.
pub struct TestSim {
    pub sim: Sim,
    pub dir: TempDir,
    pub kubeconfig: PathBuf,
    pub cache_dir: PathBuf,
}

pub async fn start() -> TestSim {
    start_with("minimal", SimConfig::default()).await
}

pub async fn start_with(scenario: &str, config: SimConfig) -> TestSim {
    start_full(scenario, config, Vec::new()).await
}

/// Starts a simulator on a free loopback port and writes a kubeconfig for it
/// (context `kubedeck-sim`, plus `kubedeck-sim-viewer` with token auth).
pub async fn start_full(scenario: &str, config: SimConfig, manifests: Vec<PathBuf>) -> TestSim {
    let dir = tempfile::tempdir().expect("temporary directory");
    let auth = config.auth.clone();
    let sim = sim::start(SimOptions {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        kubeconfig_out: None,
        scenario: scenario.into(),
        manifests,
        config,
    })
    .await
    .expect("the simulator starts");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kubeconfig_text(&sim.url(), &auth)).expect("write kubeconfig");
    let cache_dir = dir.path().join("kubectl-cache");
    TestSim {
        sim,
        dir,
        kubeconfig,
        cache_dir,
    }
}

fn kubeconfig_text(server: &str, auth: &AuthMode) -> String {
    let (admin_user, viewer) = match auth {
        AuthMode::Anonymous => ("{}".to_string(), None),
        AuthMode::Tokens { admin, viewer } => (
            format!("{{token: {admin}}}"),
            Some(format!("{{token: {viewer}}}")),
        ),
    };
    // Test clusters are throwaway: trust whatever certificate an HTTPS
    // simulator presents.
    let tls = if server.starts_with("https://") {
        "    insecure-skip-tls-verify: true\n"
    } else {
        ""
    };
    let mut text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kubedeck-sim\n  cluster:\n    server: {server}\n{tls}\
         current-context: kubedeck-sim\ncontexts:\n- name: kubedeck-sim\n  context:\n    cluster: kubedeck-sim\n    user: admin\n"
    );
    if viewer.is_some() {
        text.push_str(
            "- name: kubedeck-sim-viewer\n  context:\n    cluster: kubedeck-sim\n    user: viewer\n",
        );
    }
    text.push_str(&format!("users:\n- name: admin\n  user: {admin_user}\n"));
    if let Some(v) = viewer {
        text.push_str(&format!("- name: viewer\n  user: {v}\n"));
    }
    text
}

/// What one kubectl run printed.
#[derive(Debug)]
pub struct Out {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// The output, asserting the command succeeded.
    #[track_caller]
    pub fn ok(self) -> String {
        assert!(
            self.success,
            "kubectl failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self.stdout
    }

    #[track_caller]
    pub fn json(self) -> Value {
        let text = self.ok();
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("kubectl printed invalid JSON ({e}):\n{text}"))
    }
}

impl TestSim {
    pub fn url(&self) -> String {
        self.sim.url()
    }

    /// A kube-rs client for this cluster (plain HTTP, no credentials).
    pub fn client(&self) -> kube::Client {
        let config = kube::Config::new(self.url().parse().expect("simulator URL"));
        kube::Client::try_from(config).expect("kube client")
    }

    /// A kubectl command with this cluster's kubeconfig and a private cache.
    pub fn kubectl_cmd(&self, args: &[&str]) -> Command {
        require_kubectl();
        let mut cmd = Command::new(KUBECTL);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("KUBECACHEDIR", &self.cache_dir)
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs kubectl to completion (at most `KUBECTL_TIMEOUT`).
    pub async fn kubectl(&self, args: &[&str]) -> Out {
        run(self.kubectl_cmd(args), args).await
    }

    /// Runs a kubedeck binary (`bin`) on this cluster, with a home of the
    /// test's own: the audit log, reports and config.toml live under it.
    pub async fn kubedeck(&self, bin: &str, args: &[&str]) -> Out {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env_remove("KUBEDECK_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        run(cmd, args).await
    }

    /// Runs kubectl with a YAML document on stdin (`-f -`).
    pub async fn kubectl_stdin(&self, args: &[&str], input: &str) -> Out {
        run_with_stdin(self.kubectl_cmd(args), args, input).await
    }

    /// Writes a file into this test's temporary directory.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }
}

pub async fn run(mut cmd: Command, what: &[&str]) -> Out {
    let child = cmd.spawn().expect("spawn process");
    finish(child, what).await
}

/// Runs a command with `input` on its stdin (kubectl's `-f -`).
pub async fn run_with_stdin(mut cmd: Command, what: &[&str], input: &str) -> Out {
    use tokio::io::AsyncWriteExt;
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn process");
    let mut stdin = child.stdin.take().expect("process stdin");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("write process stdin");
    drop(stdin);
    finish(child, what).await
}

async fn finish(child: Child, what: &[&str]) -> Out {
    match tokio::time::timeout(KUBECTL_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) => Out {
            success: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        Ok(Err(e)) => panic!("kubectl {what:?}: {e}"),
        Err(_) => panic!("kubectl {what:?} did not finish within {KUBECTL_TIMEOUT:?}"),
    }
}

/// A long-running process whose stdout lines are collected as they come.
pub struct Streaming {
    pub child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    pub seen: Vec<String>,
}

impl Streaming {
    pub fn spawn(mut cmd: Command) -> Streaming {
        let mut child = cmd.spawn().expect("spawn process");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Streaming {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one satisfies `pred`, failing after `timeout`.
    pub async fn wait_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Ok(None) => panic!(
                    "the process ended before the expected line; it printed:\n{}",
                    self.seen.join("\n")
                ),
                Err(_) => panic!(
                    "no expected line within {timeout:?}; the process printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Polls `check` every 150 ms until it returns Some, failing after `timeout`
/// with `what` and the last observation.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) => {
                if start.elapsed() > timeout {
                    panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Lines of a kubectl table split into whitespace-separated cells, header
/// first.
pub fn table(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// The header of a kubectl table, and the row whose cell `col` equals `key`.
#[track_caller]
pub fn row<'a>(rows: &'a [Vec<String>], col: &str, key: &str) -> &'a [String] {
    let header = rows.first().expect("a table with a header");
    let i = header
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("no column {col} in {header:?}"));
    rows.iter()
        .skip(1)
        .find(|r| r.get(i).map(String::as_str) == Some(key))
        .unwrap_or_else(|| panic!("no row with {col}={key} in {rows:?}"))
}

/// The value of column `col` in `row` (header from `rows`).
#[track_caller]
pub fn cell<'a>(rows: &'a [Vec<String>], row: &'a [String], col: &str) -> &'a str {
    let header = rows.first().expect("a table with a header");
    let i = header
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("no column {col} in {header:?}"));
    row.get(i).map(String::as_str).unwrap_or("")
}

/// Whether a pod (as JSON) is Ready and not being deleted.
pub fn pod_ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// The pods kubectl lists in a namespace with a label selector, as JSON.
pub async fn pods_json(ts: &TestSim, ns: &str, selector: &str) -> Vec<Value> {
    let out = ts
        .kubectl(&["get", "pods", "-n", ns, "-l", selector, "-o", "json"])
        .await;
    if !out.success {
        return Vec::new();
    }
    serde_json::from_str::<Value>(&out.stdout)
        .ok()
        .and_then(|v| v["items"].as_array().cloned())
        .unwrap_or_default()
}

/// Summarises pods as "name image ready" for failure messages.
pub fn describe_pods(pods: &[Value]) -> String {
    pods.iter()
        .map(|p| {
            format!(
                "{} {} ready={} deleting={}",
                p["metadata"]["name"].as_str().unwrap_or("?"),
                p["spec"]["containers"][0]["image"].as_str().unwrap_or("?"),
                pod_ready(p),
                !p["metadata"]["deletionTimestamp"].is_null()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Waits until the deployment's pods are exactly `n`, all Ready, all on
/// `image` (when given) and none being deleted.
pub async fn wait_pods_ready(
    ts: &TestSim,
    ns: &str,
    selector: &str,
    n: usize,
    image: Option<&str>,
    timeout: Duration,
) -> Vec<Value> {
    wait_until(
        &format!("{n} Ready pods {selector} in {ns}"),
        timeout,
        || async {
            let pods = pods_json(ts, ns, selector).await;
            let good = pods.len() == n
                && pods.iter().all(|p| {
                    pod_ready(p) && image.is_none_or(|i| p["spec"]["containers"][0]["image"] == i)
                });
            if good {
                Ok(pods)
            } else {
                Err(describe_pods(&pods))
            }
        },
    )
    .await
}

/// A kubectl table parsed by the header's column offsets, so that headers
/// like `LAST SCHEDULE` and cells like `cpu: 12%/50%` stay whole: one map
/// from header to cell per row. Columns are separated by two or more spaces
/// in the header (kubectl pads with three).
pub fn columns(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let header: Vec<char> = header.chars().collect();
    let mut starts: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < header.len() {
        if header[i] == ' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < header.len() && !(header[i] == ' ' && header.get(i + 1).is_none_or(|c| *c == ' '))
        {
            i += 1;
        }
        starts.push((start, header[start..i].iter().collect()));
    }
    lines
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            starts
                .iter()
                .enumerate()
                .map(|(k, (start, name))| {
                    let end = starts.get(k + 1).map_or(chars.len(), |(s, _)| *s);
                    let cell: String = chars
                        .get((*start).min(chars.len())..end.min(chars.len()))
                        .unwrap_or_default()
                        .iter()
                        .collect();
                    (name.clone(), cell.trim().to_string())
                })
                .collect()
        })
        .collect()
}

/// Creates the HPA `demo/web` (2–4 replicas, CPU target 80%) on the
/// default scenario's `web` Deployment.
pub async fn create_web_hpa(ts: &TestSim) {
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    let hpas: kube::Api<HorizontalPodAutoscaler> = kube::Api::namespaced(ts.client(), "demo");
    let hpa = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "namespace": "demo"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 4,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]
        }
    }))
    .expect("an HPA");
    hpas.create(&kube::api::PostParams::default(), &hpa)
        .await
        .expect("create the HPA");
}

/// A one-replica PostgreSQL StatefulSet and its Service in `default`: the
/// database the backup tests dump, or fail to reach when scaled to 0.
pub const POSTGRES: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: default
spec:
  serviceName: postgres
  replicas: 1
  selector:
    matchLabels: {app: postgres}
  template:
    metadata:
      labels: {app: postgres}
    spec:
      containers:
      - name: postgres
        image: postgres:16.4
        ports:
        - containerPort: 5432
          name: postgres
---
apiVersion: v1
kind: Service
metadata:
  name: postgres
  namespace: default
spec:
  selector: {app: postgres}
  ports:
  - port: 5432
    targetPort: 5432
";
