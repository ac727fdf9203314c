//! The headless commands against the real control plane: the pod-kill
//! recovery test, and backups run and judged from the real CronJob status.

use std::sync::Arc;

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::watcher;
use kubedeck_sim::testing::watch_until;

use crate::cluster::{Cluster, WAIT};

const WEB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: registry.example/web:1.0.0}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
";

fn ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The milliseconds of a timeline line (`  +1.22s  #1 …`, `+44ms …`).
fn offset_ms(line: &str) -> Option<f64> {
    let t = line.trim_start().strip_prefix('+')?;
    let token = t.split_whitespace().next()?;
    if let Some(ms) = token.strip_suffix("ms") {
        ms.parse().ok()
    } else if let Some(s) = token.strip_suffix('s') {
        s.parse::<f64>().ok().map(|s| s * 1000.0)
    } else {
        None
    }
}

pub async fn chaos_pod_kill_passes_with_the_whole_timeline_in_causal_order(c: &'static Cluster) {
    let ns = c.namespace("real-chaos").await;
    c.apply(&ns, WEB).await;
    let pods: Api<Pod> = Api::namespaced(c.client().await, &ns);
    watch_until(
        pods,
        watcher::Config::default().labels("app=web"),
        "two Ready web pods",
        WAIT,
        |ps: &[Arc<Pod>]| {
            let n = ps.iter().filter(|p| ready(p)).count();
            if n == 2 {
                Ok(())
            } else {
                Err(format!("{n} ready"))
            }
        },
    )
    .await;
    let home = tempfile::tempdir().expect("temporary home");
    let report = home.path().join("report.md");
    // The EndpointSlice controller may lag the pods' readiness by a moment;
    // the command's own steady-state check waits for it.
    let out = c
        .kubedeck(
            home.path(),
            &[
                "chaos",
                "pod-kill",
                "deployment/web",
                "-n",
                &ns,
                "--yes",
                "--slo",
                "60s",
                "--report",
                report.to_str().expect("utf-8 path"),
            ],
        )
        .await;
    assert!(
        out.success,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("PASS"), "{}", out.stdout);

    // Every step is there, each after its cause, and the offsets never go back.
    let steps = [
        "delete sent",
        "pod terminating",
        "replacement created",
        "scheduled",
        "containers started",
        "ready (",
        "in service endpoints",
    ];
    let timeline: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| offset_ms(l).is_some())
        .collect();
    let at = |step: &str| {
        timeline
            .iter()
            .position(|l| l.contains(step))
            .unwrap_or_else(|| panic!("no {step:?} in the timeline:\n{}", out.stdout))
    };
    for pair in steps.windows(2) {
        assert!(
            at(pair[0]) < at(pair[1]),
            "{} before {}:\n{}",
            pair[0],
            pair[1],
            out.stdout
        );
    }
    assert!(at("delete sent") < at("old pod gone"), "{}", out.stdout);
    let offsets: Vec<f64> = timeline.iter().filter_map(|l| offset_ms(l)).collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{}", out.stdout);
    let text = std::fs::read_to_string(&report).expect("the Markdown report");
    assert!(text.contains("PASS"), "{text}");
    assert!(report.with_extension("json").exists());
}

pub async fn a_backup_job_completes_and_freshness_comes_from_last_successful_time(
    c: &'static Cluster,
) {
    let ns = c.namespace("real-backups").await;
    // Every minute, so the real CronJob controller runs it and records its
    // lastSuccessfulTime within the test.
    c.apply(
        &ns,
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: db-backup}\nspec:\n  schedule: '* * * * *'\n  successfulJobsHistoryLimit: 3\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers: [{name: dump, image: registry.example/pg-dump:16}]\n",
    )
    .await;
    let home = tempfile::tempdir().expect("temporary home");
    let run = c
        .kubedeck(
            home.path(),
            &[
                "backup",
                "run",
                "cronjob/db-backup",
                "-n",
                &ns,
                "--wait",
                "--timeout",
                "2m",
            ],
        )
        .await;
    assert!(
        run.success,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.contains("succeeded"), "{}", run.stdout);

    let cronjobs: Api<CronJob> = Api::namespaced(c.client().await, &ns);
    let last = watch_until(
        cronjobs,
        watcher::Config::default(),
        "the controller's lastSuccessfulTime",
        std::time::Duration::from_secs(150),
        |cjs| match cjs
            .first()
            .and_then(|cj| cj.status.as_ref()?.last_successful_time.clone())
        {
            Some(t) => Ok(t.0),
            None => Err("not yet".into()),
        },
    )
    .await;
    let list = c
        .kubedeck(home.path(), &["backup", "list", "-n", &ns])
        .await;
    assert!(
        list.success,
        "stdout:\n{}\nstderr:\n{}",
        list.stdout, list.stderr
    );
    let row = list
        .stdout
        .lines()
        .find(|l| l.contains("db-backup"))
        .unwrap_or_else(|| panic!("{}", list.stdout));
    assert!(row.contains("fresh"), "{row} (last success {last})");
    assert!(
        row.contains("every minute") || row.contains("* * * * *"),
        "{row}"
    );
}
