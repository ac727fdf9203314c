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

    pub fn down(&self) {
        if let Err(e) = testbed(&["down", "--dir", &self.dir.path().display().to_string()]) {
            eprintln!("{e}");
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
