//! `kubedeck exec` through the real API server: kwok plays the kubelet and,
//! by a ClusterExec of this test's namespace, runs the command as a local
//! process in a scratch directory with the env it is given. What that
//! process prints comes back, and its exit code is kubedeck's.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher;
use kubedeck_sim::testing::{wait_until, watch_until};

use crate::cluster::{Cluster, WAIT};

fn manifest(ns: &str, work_dir: &str) -> String {
    format!(
        "apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata: {{name: {ns}}}
spec:
  selector: {{matchNamespaces: [{ns}]}}
  execs:
  - local:
      workDir: {work_dir}
      envs: [{{name: GREETING, value: hi-from-kwok}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: box}}
spec:
  containers:
  - name: box
    image: registry.example/box:1
"
    )
}

pub async fn a_command_runs_through_the_real_exec_subresource(c: &'static Cluster) {
    let ns = c.namespace("real-exec").await;
    let work_dir = c.dir().join("exec-scratch");
    std::fs::create_dir_all(&work_dir).unwrap();
    c.apply(&ns, &manifest(&ns, &work_dir.display().to_string()))
        .await;
    let pods: Api<Pod> = Api::namespaced(c.client().await, &ns);
    watch_until(
        pods,
        watcher::Config::default().fields("metadata.name=box"),
        "the pod running",
        WAIT,
        |ps: &[Arc<Pod>]| match ps.first().and_then(|p| p.status.as_ref()?.phase.clone()) {
            Some(phase) if phase == "Running" => Ok(()),
            other => Err(format!("{other:?}")),
        },
    )
    .await;

    let home = c.dir().join("home-exec");
    // kwok takes up the ClusterExec when its informer has it; until then
    // the exec is refused.
    let out = wait_until("the local process's output", WAIT, || async {
        let out = c
            .kubedeck(
                &home,
                &[
                    "exec",
                    "box",
                    "-n",
                    &ns,
                    "--",
                    "sh",
                    "-c",
                    "echo $GREETING; pwd",
                ],
            )
            .await;
        if out.code == Some(0) {
            Ok(out)
        } else {
            Err(format!("{out:?}"))
        }
    })
    .await;
    assert_eq!(
        out.stdout,
        format!("hi-from-kwok\n{}\n", work_dir.display()),
        "{out:?}"
    );

    // kwok reports a non-zero exit as an internal error, not as the
    // NonZeroExitCode status a kubelet sends: kubedeck ends as kubectl does
    // on it, and says what the server said.
    let args = ["exec", "box", "-n", &ns, "--", "sh", "-c", "exit 7"];
    let out = c.kubedeck(&home, &args).await;
    let kubectl = c.kubectl(&args).await;
    assert_eq!(
        out.code, kubectl.code,
        "kubedeck {out:?}\nkubectl {kubectl:?}"
    );
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("exit status 7"), "{out:?}");

    let audit = std::fs::read_to_string(home.join("data/kubedeck/audit.jsonl")).unwrap();
    assert!(audit.contains("\"action\":\"exec\""), "{audit}");
}
