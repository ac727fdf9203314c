//! The shared real cluster: started with `testbed/real-cluster up` in a
//! temporary directory, read back from the `env` file it writes last, and
//! stopped with `down`, which kills exactly the processes `up` started.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use kubedeck_core::connect::{connect, read_kubeconfig_file};
use kubedeck_sim::testing::{Out, run};
use tempfile::TempDir;
use tokio::io::AsyncWriteExt as _;
use tokio::process::Command;

pub const CONTEXT: &str = "kubedeck-testbed";

pub struct Cluster {
    dir: TempDir,
    env: HashMap<String, String>,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script() -> PathBuf {
    repo().join("testbed/real-cluster")
}

/// Runs the testbed script; its output goes to the test's stderr, so a
/// failure shows what the script said.
fn testbed(args: &[&str]) -> Result<(), String> {
    let status = std::process::Command::new(script())
        .args(args)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script().display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "testbed/real-cluster {} failed ({status})",
            args.join(" ")
        ))
    }
}

impl Cluster {
    /// Builds the testbed if needed (quick when cached), starts a cluster
    /// of three kwok nodes and waits until it is ready. Fails the run, with
    /// the reason, where it cannot: never a silent pass without Go.
    pub fn up() -> Cluster {
        if let Err(e) = testbed(&["build"]) {
            panic!(
                "the real tier needs the testbed: {e}. It builds Kubernetes from Go modules: install Go 1.26+ and openssl, then run testbed/real-cluster build"
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("kubedeck-real-")
            .tempdir()
            .expect("temporary directory");
        let d = dir.path().display().to_string();
        let kubeconfig = dir.path().join("admin.yaml").display().to_string();
        if let Err(e) = testbed(&[
            "up",
            "--dir",
            &d,
            "--kubeconfig-out",
            &kubeconfig,
            "--nodes",
            "3",
        ]) {
            let _ = testbed(&["down", "--dir", &d]);
            panic!("{e}");
        }
        let text = std::fs::read_to_string(dir.path().join("env")).expect("the testbed's env file");
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Cluster { dir, env }
    }

    /// Stops the cluster and removes its directory (the cluster lives in a
    /// static, so its TempDir is never dropped).
    pub fn down(&self) {
        match testbed(&["down", "--dir", &self.dir.path().display().to_string()]) {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(self.dir.path());
            }
            Err(e) => eprintln!("{e}; its files are left in {}", self.dir.path().display()),
        }
    }

    pub fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("{key} is missing from the testbed's env file"))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn kubeconfig(&self) -> PathBuf {
        PathBuf::from(self.var("KUBECONFIG"))
    }

    /// The testbed's kubectl, the server's own version, as the witness.
    pub fn kubectl_cmd(&self, kubeconfig: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.var("KUBECTL"));
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args)
            .env("KUBECACHEDIR", self.dir.path().join("kubectl-cache"))
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    pub async fn kubectl(&self, args: &[&str]) -> Out {
        run(self.kubectl_cmd(&self.kubeconfig(), args), args).await
    }

    /// kubectl with a manifest on stdin (`apply -f -`).
    pub async fn apply(&self, namespace: &str, manifest: &str) {
        let args = ["apply", "-n", namespace, "-f", "-"];
        let mut cmd = self.kubectl_cmd(&self.kubeconfig(), &args);
        cmd.stdin(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn kubectl");
        let mut stdin = child.stdin.take().expect("kubectl stdin");
        stdin
            .write_all(manifest.as_bytes())
            .await
            .expect("write the manifest");
        drop(stdin);
        let out = child.wait_with_output().await.expect("kubectl apply");
        assert!(
            out.status.success(),
            "kubectl apply failed: {}\n{manifest}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The kubedeck binary on this cluster, with a home of `home`.
    pub async fn kubedeck(&self, home: &Path, args: &[&str]) -> Out {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubedeck"));
        cmd.args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env_remove("KUBEDECK_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        run(cmd, args).await
    }

    /// A client made as kubedeck makes its own (`connect`), so the tests
    /// see what the console and the headless commands see.
    pub async fn client_for(&self, kubeconfig: &Path) -> kube::Client {
        let kc = read_kubeconfig_file(Some(kubeconfig))
            .await
            .expect("a readable kubeconfig");
        let (_, client) = connect(kc, None).await.expect("the cluster answers");
        client
    }

    pub async fn client(&self) -> kube::Client {
        self.client_for(&self.kubeconfig()).await
    }

    /// A namespace of the test's own, with its default ServiceAccount (pods
    /// are refused until the controller has made it).
    pub async fn namespace(&self, name: &str) -> String {
        self.kubectl(&["create", "namespace", name]).await.ok();
        self.kubectl(&[
            "wait",
            "-n",
            name,
            "--for=create",
            "serviceaccount/default",
            "--timeout=60s",
        ])
        .await
        .ok();
        name.to_string()
    }
}

/// How long a real controller may take to do what a test waits for.
pub const WAIT: Duration = Duration::from_secs(90);

/// kubectl with another user's kubeconfig.
pub async fn run_kubectl(c: &Cluster, kubeconfig: &Path, args: &[&str]) -> Out {
    run(c.kubectl_cmd(kubeconfig, args), args).await
}

impl Cluster {
    /// Stops kube-apiserver and starts it again with the same command line,
    /// environment and log, as a restart of the control plane would; etcd
    /// keeps the data, so resourceVersions continue. `between` runs while
    /// the server is down.
    pub async fn restart_apiserver<F: std::future::Future<Output = ()>>(&self, between: F) {
        let pid_file = self.dir().join("pids/kube-apiserver.pid");
        let pid = std::fs::read_to_string(&pid_file).expect("the apiserver's pid");
        let pid = pid.trim();
        let split = |file: &str| -> Vec<String> {
            let raw = std::fs::read(format!("/proc/{pid}/{file}")).expect("the apiserver's /proc");
            raw.split(|b| *b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        };
        let argv = split("cmdline");
        let environ = split("environ");
        // SIGKILL: a crash, with no graceful shutdown to wait for.
        let killed = std::process::Command::new("kill")
            .args(["-KILL", pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        crate::cluster::wait_gone(pid).await;
        between.await;
        // Through sh, as the testbed starts it: in a session of its own,
        // its output appended to its log, and not our child to reap.
        let log = self.dir().join("logs/kube-apiserver.log");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg("log=$1; shift; setsid \"$@\" </dev/null >>\"$log\" 2>&1 & echo $!")
            .arg("sh")
            .arg(&log)
            .args(&argv)
            .env_clear()
            .envs(environ.iter().filter_map(|kv| kv.split_once('=')))
            .output()
            .expect("the apiserver starts again");
        let new_pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            out.status.success() && !new_pid.is_empty(),
            "the apiserver's new pid"
        );
        std::fs::write(&pid_file, new_pid).expect("write the new pid");
        // Ready when /readyz says so; curl retries until then (the server
        // refuses connections while it starts).
        let url = format!("{}/readyz", self.var("APISERVER_URL"));
        let ready = Command::new("curl")
            .args([
                "-sS",
                "--fail",
                "--retry",
                "120",
                "--retry-delay",
                "1",
                "--retry-all-errors",
            ])
            .args(["--cacert", self.var("CA_CERT"), &url])
            .output()
            .await
            .expect("curl runs");
        assert!(
            ready.status.success(),
            "the restarted apiserver is ready: {}",
            String::from_utf8_lossy(&ready.stderr)
        );
    }

    /// etcd's revision after a write of a key of the test's own, through
    /// etcd's JSON gateway.
    pub async fn etcd_write(&self) -> i64 {
        let body = format!(
            r#"{{"key":"{}","value":"{}"}}"#,
            b64("/kubedeck-test/tick"),
            b64(&format!("{:?}", std::time::SystemTime::now()))
        );
        let answer = self.etcd("/v3/kv/put", &body).await;
        answer["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("etcd's revision: {answer}"))
    }

    /// Compacts etcd at `revision`: history before it is gone, so a watch
    /// resuming from an older resourceVersion gets 410 Gone.
    pub async fn etcd_compact(&self, revision: i64) {
        let body = format!(r#"{{"revision":"{revision}","physical":true}}"#);
        self.etcd("/v3/kv/compaction", &body).await;
    }

    async fn etcd(&self, path: &str, body: &str) -> serde_json::Value {
        let url = format!("http://127.0.0.1:{}{path}", self.var("ETCD_PORT"));
        let out = Command::new("curl")
            .args(["-sS", "--fail", "-X", "POST", &url, "-d", body])
            .output()
            .await
            .expect("curl runs");
        assert!(
            out.status.success(),
            "etcd {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("etcd answers JSON")
    }
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Waits for a process that is not our child to exit (`tail --pid` wakes
/// when it does).
pub async fn wait_gone(pid: &str) {
    let waited = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new("tail")
            .args(["--pid", pid, "-f", "/dev/null"])
            .status(),
    )
    .await;
    assert!(
        matches!(waited, Ok(Ok(s)) if s.success()),
        "process {pid} did not exit"
    );
}
