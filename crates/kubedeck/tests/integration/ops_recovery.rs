//! The pod-kill recovery test against the simulator: the library (every
//! milestone timestamped in causal order, the endpoint minimum and the time
//! at zero) and the headless `kubedeck chaos pod-kill` (plan, confirmation,
//! exit codes that follow the SLO, saved reports).

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kubedeck_core::actions::{AuditLog, AuditResult, Executor, WorkloadRef};
use kubedeck_core::config::Config;
use kubedeck_core::ops::recovery::{self, KillMode, Runner, TestSpec};
use kubedeck_core::ops::report;
use kubedeck_core::ops::timeline::{Kill, Milestone, Report, TimelineEvent, Verdict};
use serde_json::json;

const CONTEXT: &str = "kubedeck-sim";
const WAIT: Duration = Duration::from_secs(60);

/// Waits until service `svc` in `ns` has exactly `n` ready endpoints.
async fn wait_endpoints(client: &kube::Client, ns: &str, svc: &str, n: usize) {
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), ns);
    crate::common::wait_until(
        &format!("{n} ready endpoints of service {svc}"),
        WAIT,
        || async {
            let lp = ListParams::default().labels(&format!("kubernetes.io/service-name={svc}"));
            let slices = api.list(&lp).await.map_err(|e| e.to_string())?;
            let ready = slices
                .items
                .iter()
                .flat_map(|s| s.endpoints.iter())
                .filter(|e| e.conditions.as_ref().and_then(|c| c.ready) != Some(false))
                .count();
            if ready == n {
                Ok(())
            } else {
                Err(format!("{ready} ready"))
            }
        },
    )
    .await;
}

fn executor(ts: &crate::common::TestSim, readonly: bool) -> Executor {
    let audit = AuditLog::new(ts.dir.path().join("audit.jsonl"));
    Executor::new(ts.client(), CONTEXT, "admin", readonly, audit)
}

async fn run_test(
    ts: &crate::common::TestSim,
    exec: &Executor,
    spec: &TestSpec,
) -> (Report, Vec<String>) {
    let client = ts.client();
    let target = recovery::inspect(&client, &spec.target)
        .await
        .expect("the workload can be inspected");
    let config = Config::default();
    let runner = Runner {
        client: &client,
        executor: exec,
        config: &config,
    };
    let mut lines = Vec::new();
    let mut on = |e: &TimelineEvent| lines.push(e.line());
    let report = runner
        .run(spec, &target, &mut on)
        .await
        .expect("the test runs");
    (report, lines)
}

/// Every milestone's time is at or after the one it depends on, and the
/// replacement's steps follow one another.
#[track_caller]
fn assert_causal(k: &Kill) {
    for m in Milestone::ALL {
        if let (Some(before), Some(at)) = (m.after().and_then(|b| k.at(b)), k.at(m)) {
            assert!(
                before <= at,
                "{m:?} at {at} comes before {:?} at {before}: {k:?}",
                m.after()
            );
        }
    }
    let chain = [
        Milestone::DeleteSent,
        Milestone::ReplacementCreated,
        Milestone::Scheduled,
        Milestone::ContainersStarted,
        Milestone::Ready,
        Milestone::InEndpoints,
    ];
    let times: Vec<_> = chain.iter().filter_map(|m| k.at(*m)).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{k:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_two_pods_keeps_an_endpoint_and_passes() {
    let ts = crate::common::start().await;
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    wait_endpoints(&ts.client(), "demo", "web", 2).await;
    let exec = executor(&ts, false);
    let spec = TestSpec::new(WorkloadRef::deployment("demo", "web"));
    let (report, lines) = run_test(&ts, &exec, &spec).await;

    assert_eq!(
        report.verdict,
        Verdict::Pass,
        "{:?}\n{}",
        report.reasons,
        lines.join("\n")
    );
    assert_eq!(report.services, vec!["web"]);
    assert_eq!(report.kills.len(), 1);
    let k = &report.kills[0];
    assert!(
        k.missing(true).is_empty(),
        "every step is timestamped, missing {:?}:\n{}",
        k.missing(true),
        lines.join("\n")
    );
    assert_causal(k);
    let replacement = k.replacement.as_deref().expect("a replacement pod");
    assert_ne!(replacement, k.pod);
    assert!(k.recovery(true).is_some_and(|r| r < spec.slo));
    assert_eq!(report.endpoints.initial, 2);
    assert_eq!(report.endpoints.minimum, 1, "{}", lines.join("\n"));
    assert_eq!(report.endpoints.time_at_zero_ms, 0);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!("in service endpoints ({replacement})"))),
        "{}",
        lines.join("\n")
    );

    // The delete went through the action core, audited.
    let audit = exec.audit.read().expect("audit log");
    let deletes: Vec<_> = audit
        .records
        .iter()
        .filter(|r| r.action == "delete-pod")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].object, format!("pod/{}", k.pod));
    assert_eq!(deletes[0].result, AuditResult::Ok);
    let test = audit.records.last().expect("the test's own record");
    assert_eq!(
        (
            test.action.as_str(),
            test.object.as_str(),
            test.after.as_str()
        ),
        ("recovery-test", "deployment/web", "PASS")
    );

    let file = ts.dir.path().join("reports").join("one.md");
    let (md, json) = report::save(&report, Some(&file)).expect("report saved");
    let text = std::fs::read_to_string(md).expect("markdown");
    assert!(text.contains("— PASS"), "{text}");
    assert!(!text.contains("not seen"), "{text}");
    let back: Report =
        serde_json::from_str(&std::fs::read_to_string(json).expect("json")).expect("valid JSON");
    assert_eq!(back, report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_only_pod_measures_the_time_at_zero() {
    let ts = crate::common::start().await;
    let client = ts.client();
    Api::<Deployment>::namespaced(client.clone(), "demo")
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .expect("scale to 1");
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 1, None, WAIT).await;
    wait_endpoints(&client, "demo", "web", 1).await;
    let exec = executor(&ts, false);
    let spec = TestSpec {
        mode: KillMode::All,
        ..TestSpec::new(WorkloadRef::deployment("demo", "web"))
    };
    let (report, lines) = run_test(&ts, &exec, &spec).await;

    assert_eq!(report.kills.len(), 1);
    let k = &report.kills[0];
    assert!(
        k.missing(true).is_empty(),
        "{:?}\n{}",
        k.missing(true),
        lines.join("\n")
    );
    assert_causal(k);
    assert_eq!(report.endpoints.initial, 1);
    assert_eq!(report.endpoints.minimum, 0);
    assert_eq!(report.endpoints.zero_periods, 1);
    assert!(
        report.endpoints.time_at_zero_ms > 0,
        "a measured time at zero: {:?}",
        report.endpoints
    );
    // The outage lasts at most from the delete to the replacement serving.
    let outage = k.recovery(true).expect("recovered");
    assert!(u128::from(report.endpoints.time_at_zero_ms) <= outage.as_millis());
    assert_eq!(report.verdict, Verdict::Fail, "under the endpoint minimum");
    assert!(
        report
            .reasons
            .iter()
            .any(|r| r.starts_with("Ready endpoints fell to 0")),
        "{:?}",
        report.reasons
    );
    assert!(
        lines.iter().any(|l| l.ends_with("ready endpoints: 0")),
        "{}",
        lines.join("\n")
    );
}

const POSTGRES: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: default
spec:
  serviceName: postgres
  replicas: 2
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
";

/// A StatefulSet's replacement has the killed pod's name: it is told apart
/// by its uid. A forced delete removes the pod at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_kill_of_a_statefulset_pod_is_followed_by_uid() {
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], POSTGRES).await.ok();
    crate::common::wait_pods_ready(&ts, "default", "app=postgres", 2, None, WAIT).await;
    wait_endpoints(&ts.client(), "default", "postgres", 2).await;
    let exec = executor(&ts, false);
    let spec = TestSpec {
        mode: KillMode::Count(1),
        force: true,
        ..TestSpec::new(WorkloadRef::statefulset("default", "postgres"))
    };
    let (report, lines) = run_test(&ts, &exec, &spec).await;
    assert_eq!(
        report.verdict,
        Verdict::Pass,
        "{:?}\n{}",
        report.reasons,
        lines.join("\n")
    );
    let k = &report.kills[0];
    assert_eq!(k.replacement.as_deref(), Some(k.pod.as_str()));
    assert!(
        k.missing(true).is_empty(),
        "{:?}\n{}",
        k.missing(true),
        lines.join("\n")
    );
    assert_causal(k);
    let audit = exec.audit.read().expect("audit log");
    assert_eq!(
        audit.records[0].parameters["force"], true,
        "{:?}",
        audit.records[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_refuses_the_kill_and_audits_it() {
    let ts = crate::common::start().await;
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    let exec = executor(&ts, true);
    let spec = TestSpec::new(WorkloadRef::deployment("demo", "web"));
    let (report, _) = run_test(&ts, &exec, &spec).await;
    assert_eq!(report.verdict, Verdict::Fail);
    assert!(
        report
            .aborted
            .as_deref()
            .is_some_and(|a| a.contains("read-only")),
        "{:?}",
        report.aborted
    );
    let audit = exec.audit.read().expect("audit log");
    assert!(matches!(
        audit.records[0].result,
        AuditResult::Refused { .. }
    ));
    let pods = crate::common::pods_json(&ts, "demo", "app=web").await;
    assert!(
        pods.iter()
            .all(|p| p["metadata"]["deletionTimestamp"].is_null())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_headless_command_exits_by_the_slo() {
    let ts = crate::common::start().await;
    crate::common::wait_pods_ready(&ts, "demo", "app=web", 2, None, WAIT).await;
    wait_endpoints(&ts.client(), "demo", "web", 2).await;

    // No terminal and no --yes: refused before anything is deleted.
    let refused =
        crate::common::kubedeck(&ts, &["chaos", "pod-kill", "deployment/web", "-n", "demo"]).await;
    assert!(!refused.success);
    assert!(
        refused
            .stderr
            .contains("stdin is not a terminal; pass --yes"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stdout
            .contains("Kill 1 random pod (1 of 2) of deployment/web"),
        "{}",
        refused.stdout
    );

    let report_file = ts.dir.path().join("pass.md");
    let pass = crate::common::kubedeck(
        &ts,
        &[
            "chaos",
            "pod-kill",
            "deployment/web",
            "-n",
            "demo",
            "--yes",
            "--slo",
            "30s",
            "--report",
            report_file.to_str().expect("utf-8 path"),
        ],
    )
    .await;
    assert!(
        pass.success,
        "stdout:\n{}\nstderr:\n{}",
        pass.stdout, pass.stderr
    );
    for step in [
        "delete sent",
        "replacement created",
        "ready",
        "in service endpoints",
        "old pod gone",
    ] {
        assert!(pass.stdout.contains(step), "{step} in:\n{}", pass.stdout);
    }
    assert!(pass.stdout.contains("PASS"), "{}", pass.stdout);
    assert!(
        std::fs::read_to_string(&report_file)
            .expect("report")
            .contains("— PASS")
    );
    assert!(report_file.with_extension("json").exists());

    wait_endpoints(&ts.client(), "demo", "web", 2).await;
    let fail = crate::common::kubedeck(
        &ts,
        &[
            "chaos",
            "pod-kill",
            "deploy/web",
            "-n",
            "demo",
            "--yes",
            "--slo",
            "1ms",
        ],
    )
    .await;
    assert!(!fail.success, "stdout:\n{}", fail.stdout);
    assert_eq!(fail.code, Some(1));
    assert!(fail.stdout.contains("FAIL"), "{}", fail.stdout);
    assert!(
        fail.stderr.contains("over the SLO of 1ms"),
        "{}",
        fail.stderr
    );
    // Without --report it lands in the XDG data dir.
    let reports: Vec<_> = std::fs::read_dir(ts.dir.path().join("data/kubedeck/reports"))
        .expect("reports folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        reports
            .iter()
            .any(|n| n.starts_with("pod-kill-demo-deployment-web-") && n.ends_with(".md")),
        "{reports:?}"
    );

    let audit = crate::common::kubedeck(&ts, &["audit", "--json"]).await;
    assert_eq!(
        audit
            .stdout
            .matches("\"action\":\"delete-pod\",\"parameters\"")
            .count(),
        2,
        "{}",
        audit.stdout
    );
}

const SICK: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sick
  namespace: demo
spec:
  replicas: 2
  selector:
    matchLabels: {app: sick}
  template:
    metadata:
      labels: {app: sick}
    spec:
      containers:
      - name: sick
        image: registry.example/sick:crashloop
---
apiVersion: v1
kind: Service
metadata:
  name: sick
  namespace: demo
spec:
  selector: {app: sick}
  ports:
  - port: 80
";

/// The names and uids of `app=sick`'s pods, once there are two.
async fn sick_pods(ts: &crate::common::TestSim) -> Vec<(String, String)> {
    crate::common::wait_until("two pods of sick", WAIT, || async {
        let pods: Vec<(String, String)> = crate::common::pods_json(ts, "demo", "app=sick")
            .await
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .map(|p| {
                (
                    p["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    p["metadata"]["uid"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        if pods.len() == 2 {
            Ok(pods)
        } else {
            Err(format!("{pods:?}"))
        }
    })
    .await
}

/// The case: started while the Service has no Ready endpoint and
/// not every replica is Ready, the test refuses with exit 3 and kills
/// nothing; the refusal is audited. `--skip-steady-state-check` overrides
/// it, and that is audited too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_started_while_unhealthy_kills_nothing_and_exits_3() {
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], SICK).await.ok();
    let before = sick_pods(&ts).await;

    let refused = crate::common::kubedeck(
        &ts,
        &[
            "chaos",
            "pod-kill",
            "deployment/sick",
            "-n",
            "demo",
            "--yes",
        ],
    )
    .await;
    assert_eq!(
        refused.code,
        Some(3),
        "stdout:\n{}\nstderr:\n{}",
        refused.stdout,
        refused.stderr
    );
    assert!(
        refused.stdout.contains("steady state does not hold now"),
        "the plan says so first:\n{}",
        refused.stdout
    );
    for why in [
        "refused: deployment/sick in demo was not in its steady state within 10.00s, so nothing was killed",
        "0 of 2 replicas Ready",
        "service sick has 0 Ready endpoints, under the minimum of 1",
        "--skip-steady-state-check",
    ] {
        assert!(
            refused.stderr.contains(why),
            "{why} in:\n{}",
            refused.stderr
        );
    }
    assert!(
        !refused.stdout.contains("delete sent"),
        "{}",
        refused.stdout
    );
    assert_eq!(sick_pods(&ts).await, before, "no pod was deleted");
    let audit = AuditLog::new(ts.dir.path().join("data/kubedeck/audit.jsonl"))
        .read()
        .expect("the audit log");
    let refusal: Vec<_> = audit
        .records
        .iter()
        .map(|r| (r.action.as_str(), r.object.as_str(), &r.result))
        .collect();
    assert!(
        matches!(
            refusal.as_slice(),
            [("recovery-test", "deployment/sick", AuditResult::Refused { reason })]
                if reason.starts_with("steady state: ")
        ),
        "{refusal:?}"
    );

    let forced = crate::common::kubedeck(
        &ts,
        &[
            "chaos",
            "pod-kill",
            "deployment/sick",
            "-n",
            "demo",
            "--yes",
            "--skip-steady-state-check",
            "--abort-after",
            "1s",
        ],
    )
    .await;
    assert_eq!(forced.code, Some(1), "{}{}", forced.stdout, forced.stderr);
    assert!(
        forced
            .stdout
            .contains("killing anyway (--skip-steady-state-check)"),
        "{}",
        forced.stdout
    );
    assert!(forced.stdout.contains("delete sent"), "{}", forced.stdout);
    let audit = AuditLog::new(ts.dir.path().join("data/kubedeck/audit.jsonl"))
        .read()
        .expect("the audit log");
    let actions: Vec<(&str, &str)> = audit
        .records
        .iter()
        .map(|r| (r.action.as_str(), r.before.as_str()))
        .collect();
    assert!(
        actions.iter().any(|(a, before)| *a == "recovery-test"
            && before.starts_with("steady state does not hold: ")),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|(a, _)| *a == "delete-pod"),
        "{actions:?}"
    );
    // The test as a whole is recorded under the same name as its refusal.
    let last = audit.records.last().expect("the test's record");
    assert_eq!(
        (last.action.as_str(), last.after.as_str()),
        ("recovery-test", "FAIL")
    );
    assert!(
        matches!(last.result, AuditResult::Failed { .. }),
        "{last:?}"
    );
}
