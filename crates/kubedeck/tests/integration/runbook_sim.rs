//! Shipped runbooks run headless with the real binary against an
//! in-process simulator of the seed platforms: "Bad rollout and rollback"
//! and "Scaling demo" (with the simulator's HPA knobs set through the
//! runbook's variables so that it finishes in seconds) to success; "High
//! error rate" without a Prometheus, and "Scaling demo" on an HPA already
//! at its maximum, to "incomplete" (exit 4), never to a success they could
//! not see. Each run leaves a Markdown incident log and audit records.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::Api;
use kubedeck_core::actions::{AuditLog, AuditResult};
use kubedeck_sim::config::SimConfig;

async fn runbook(ts: &crate::common::TestSim, args: &[&str]) -> crate::common::Out {
    let args: Vec<&str> = std::iter::once("runbook")
        .chain(args.iter().copied())
        .collect();
    crate::common::kubedeck(ts, &args).await
}

fn incident_logs(dir: &Path, name: &str) -> Vec<String> {
    let runs = dir.join("data/kubedeck/runs");
    std::fs::read_dir(&runs)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(name) && n.ends_with(".md"))
                })
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect()
        })
        .unwrap_or_default()
}

async fn myfin_api_ready(ts: &crate::common::TestSim) {
    let api: Api<Deployment> = Api::namespaced(ts.client(), "myfin");
    crate::common::wait_until(
        "myfin-api has 2 Ready replicas",
        Duration::from_secs(60),
        || {
            let api = api.clone();
            async move {
                let ready = api
                    .get("myfin-api")
                    .await
                    .map_err(|e| e.to_string())?
                    .status
                    .and_then(|s| s.ready_replicas);
                if ready == Some(2) {
                    Ok(())
                } else {
                    Err(format!("{ready:?} Ready"))
                }
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rollout_and_rollback_runs_to_success() {
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    myfin_api_ready(&ts).await;
    let out = runbook(
        &ts,
        &[
            "run",
            "bad-rollout",
            "--yes",
            "--var",
            "stall_timeout=40s",
            "--var",
            "ready_timeout=40s",
        ],
    )
    .await;
    assert!(
        out.success,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let stdout = out.stdout;
    assert!(
        stdout.contains("ImagePullBackOff") || stdout.contains("ErrImagePull"),
        "the stall is detected: {stdout}"
    );
    assert!(stdout.contains("rolled back to revision 1"), "{stdout}");
    // The rollback replaces the stalled pod only: the old ones still serve.
    assert!(
        stdout.contains(
            "2 pods already run revision 1 and stay; 1 pod of another revision will be removed"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("all 3 pods will be replaced"), "{stdout}");
    assert!(
        stdout.contains("runbook bad-rollout: succeeded"),
        "{stdout}"
    );

    // The cluster is back on the old image, every replica Ready.
    let d = Api::<Deployment>::namespaced(ts.client(), "myfin")
        .get("myfin-api")
        .await
        .expect("myfin-api");
    let image = d
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers.first().and_then(|c| c.image.clone()));
    assert_eq!(image.as_deref(), Some("ghcr.io/afaneca/myfin-api:6.5.1"));

    // The record: an incident log and the audit log's action and run records.
    let logs = incident_logs(ts.dir.path(), "bad-rollout-");
    assert_eq!(logs.len(), 1);
    let md = &logs[0];
    assert!(md.contains("# Runbook: Bad rollout and rollback"), "{md}");
    assert!(md.contains("outcome: **succeeded**"), "{md}");
    for step in ["bad-image", "stalled", "gate", "rollback", "recovered"] {
        assert!(md.contains(&format!("({step}) |")), "{step} missing:\n{md}");
    }
    let audit = AuditLog::new(ts.dir.path().join("data/kubedeck/audit.jsonl"))
        .read()
        .expect("audit log");
    let actions: Vec<&str> = audit.records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["set-image", "rollback", "runbook"]);
    assert!(audit.records.iter().all(|r| r.result == AuditResult::Ok));
    let run = &audit.records[2];
    assert_eq!(run.object, "runbook/bad-rollout");
    assert_eq!(
        run.parameters["timeline"].as_array().map(Vec::len),
        Some(9),
        "one timeline entry per step"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_demo_runs_to_success() {
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    myfin_api_ready(&ts).await;
    let out = runbook(
        &ts,
        &[
            "run",
            "scaling-demo",
            "--yes",
            "--var",
            "sync_period=1",
            "--var",
            "stabilization_scale=0.02",
            "--var",
            "scale_timeout=45s",
        ],
    )
    .await;
    assert!(
        out.success,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("runbook scaling-demo: succeeded"));

    let hpa = Api::<HorizontalPodAutoscaler>::namespaced(ts.client(), "myfin")
        .get("myfin-api-hpa")
        .await
        .expect("myfin-api-hpa");
    let current = hpa.status.and_then(|s| s.current_replicas).unwrap_or(0);
    assert!(current > 2, "the HPA scaled up: {current} replicas");
    // The spike was stopped.
    let d = Api::<Deployment>::namespaced(ts.client(), "myfin")
        .get("myfin-api")
        .await
        .expect("myfin-api");
    let load = d
        .metadata
        .annotations
        .and_then(|a| a.get("kubedeck.io/load").cloned());
    assert_eq!(load.as_deref(), Some("steady 100rps"));
    assert_eq!(incident_logs(ts.dir.path(), "scaling-demo-").len(), 1);
    // Annotate steps go through the executor: audited with before → after.
    let audit = AuditLog::new(ts.dir.path().join("data/kubedeck/audit.jsonl"))
        .read()
        .expect("audit log");
    let annotations: Vec<(&str, &str, &str)> = audit
        .records
        .iter()
        .filter(|r| r.action == "annotate" && r.result == AuditResult::Ok)
        .map(|r| (r.object.as_str(), r.before.as_str(), r.after.as_str()))
        .collect();
    assert!(
        annotations.contains(&(
            "deployment/myfin-api",
            "no kubedeck.io/load",
            "kubedeck.io/load=spike 100rps 900rps 10m"
        )),
        "{annotations:?}"
    );
    assert_eq!(
        annotations.last().map(|a| a.2),
        Some("kubedeck.io/load=steady 100rps"),
        "{annotations:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_run_is_refused_and_recorded() {
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    myfin_api_ready(&ts).await;
    let out = runbook(&ts, &["run", "bad-rollout", "--yes", "--readonly"]).await;
    assert!(!out.success);
    assert!(out.stdout.contains("is read-only"), "{}", out.stdout);
    assert!(
        out.stderr.contains("failed at step bad-image"),
        "{}",
        out.stderr
    );
    let audit = AuditLog::new(ts.dir.path().join("data/kubedeck/audit.jsonl"))
        .read()
        .expect("audit log");
    let results: Vec<(&str, bool)> = audit
        .records
        .iter()
        .map(|r| (r.action.as_str(), r.result == AuditResult::Ok))
        .collect();
    assert_eq!(results, [("set-image", false), ("runbook", false)]);
    assert_eq!(incident_logs(ts.dir.path(), "bad-rollout-").len(), 1);
}

/// The case: without a Prometheus the error-rate checks cannot be
/// evaluated, so the run is incomplete (exit 4), says every way to give
/// one, and records why; it never says "succeeded".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn high_error_rate_without_prometheus_ends_incomplete() {
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    myfin_api_ready(&ts).await;
    let out = runbook(&ts, &["run", "high-error-rate", "--yes"]).await;
    assert_eq!(
        out.code,
        Some(4),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(!out.stdout.contains("succeeded"), "{}", out.stdout);
    assert!(out.stdout.contains("→ INCONCLUSIVE"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "runbook high-error-rate: incomplete: steps errors, critical were inconclusive"
        ),
        "{}",
        out.stdout
    );
    for way in [
        "--prometheus URL",
        "`prometheus = \"URL\"` under [contexts.NAME] in config.toml",
        "`url` under [metrics.prometheus]",
    ] {
        assert!(out.stderr.contains(way), "{way} in:\n{}", out.stderr);
    }
    // Nothing was rolled back on a rate nobody measured.
    assert!(!out.stdout.contains("rollout undo"), "{}", out.stdout);
    let logs = incident_logs(ts.dir.path(), "high-error-rate-");
    assert_eq!(logs.len(), 1);
    let md = &logs[0];
    assert!(
        md.contains("outcome: **incomplete: steps errors, critical"),
        "{md}"
    );
    assert!(md.contains("## Inconclusive"), "{md}");
    assert!(
        md.contains(
            "- Is the error rate above the alert threshold? (errors): no Prometheus to ask"
        ),
        "{md}"
    );
    assert!(md.contains("| check | inconclusive |"), "{md}");
    let audit = AuditLog::new(ts.dir.path().join("data/kubedeck/audit.jsonl"))
        .read()
        .expect("audit log");
    let run = audit.records.last().expect("the run's record");
    assert_eq!(run.action, "runbook");
    assert!(
        matches!(&run.result, AuditResult::Failed { message } if message.starts_with("incomplete")),
        "{:?}",
        run.result
    );
}

/// The issue's case: run while its HPA was already scaled up, "Scaling
/// demo" passed "scales up" at once. The change must be seen during the
/// step; with the HPA at its maximum none can be, so the run is incomplete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scaling_demo_does_not_pass_for_a_scale_up_it_did_not_see() {
    let ts = crate::common::start_with("seed", SimConfig::default()).await;
    myfin_api_ready(&ts).await;
    for args in [
        &[
            "annotate",
            "hpa/myfin-api-hpa",
            "-n",
            "myfin",
            "--overwrite",
            "sim.kubedeck.io/sync-period-seconds=1",
            "sim.kubedeck.io/stabilization-scale=0.02",
        ][..],
        &[
            "annotate",
            "deploy/myfin-api",
            "-n",
            "myfin",
            "--overwrite",
            "kubedeck.io/load=steady 1500rps",
        ],
    ] {
        let out = ts.kubectl(args).await;
        assert!(out.success, "{}", out.stderr);
    }
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(ts.client(), "myfin");
    crate::common::wait_until(
        "myfin-api-hpa at its maximum of 10",
        Duration::from_secs(120),
        || {
            let hpas = hpas.clone();
            async move {
                let status = hpas
                    .get("myfin-api-hpa")
                    .await
                    .map_err(|e| e.to_string())?
                    .status
                    .unwrap_or_default();
                if status.desired_replicas == 10 && status.current_replicas == Some(10) {
                    Ok(())
                } else {
                    Err(format!(
                        "desired {}, current {:?}",
                        status.desired_replicas, status.current_replicas
                    ))
                }
            }
        },
    )
    .await;
    // A second run: the "spike" keeps the load where it is.
    let out = runbook(
        &ts,
        &[
            "run",
            "scaling-demo",
            "--yes",
            "--var",
            "base_rps=1500rps",
            "--var",
            "peak_rps=1500rps",
            "--var",
            "sync_period=1",
            "--var",
            "stabilization_scale=0.02",
            "--var",
            "scale_timeout=30s",
        ],
    )
    .await;
    assert_eq!(
        out.code,
        Some(4),
        "stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout.contains(
            "hpa/myfin-api-hpa was already at its maximum (10 replicas) when the step began, so no scale-up can be seen"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("runbook scaling-demo: incomplete: step scaled-up was inconclusive"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("succeeded"), "{}", out.stdout);
}
