//! Database backups with the real kubectl: a pg_dump CronJob run by hand
//! (`kubectl create job --from=cronjob/...`) dumps a PostgreSQL
//! StatefulSet, fails with "Connection refused" once the database is scaled
//! to zero, and the CronJob's status follows its manual and scheduled Jobs.

use std::time::Duration;

use crate::common::{TestSim, wait_pods_ready, wait_until};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// A backup CronJob as the seed documents write them: pg_dump inside
/// `sh -c`, the file name stamped by `$(date ...)`.
fn backup_cronjob(name: &str, schedule: &str) -> String {
    format!(
        "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: default
spec:
  schedule: '{schedule}'
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: backup
            image: postgres:16.4
            command:
            - /bin/sh
            - -c
            - pg_dump -h postgres -U app -d shop --format=custom --file=/backups/shop-$(date +%Y%m%d-%H%M%S).dump && echo backup complete
"
    )
}

async fn cronjob_status(ts: &TestSim, name: &str) -> Value {
    let out = ts
        .kubectl(&["get", "cronjob", name, "-n", "default", "-o", "json"])
        .await;
    serde_json::from_str::<Value>(&out.stdout)
        .map(|v| v["status"].clone())
        .unwrap_or(Value::Null)
}

/// Waits for `job` to reach condition `cond` (complete / failed).
async fn wait_job(ts: &TestSim, job: &str, cond: &str) {
    let out = ts
        .kubectl(&[
            "wait",
            &format!("--for=condition={cond}"),
            &format!("job/{job}"),
            "-n",
            "default",
            "--timeout=60s",
        ])
        .await;
    if !out.success {
        let describe = ts.kubectl(&["describe", "job", job, "-n", "default"]).await;
        panic!(
            "job {job} did not become {cond}: {}\n{}\n{}",
            out.stderr, describe.stdout, describe.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_backup_dumps_the_database_and_fails_without_it() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], crate::common::POSTGRES)
        .await
        .ok();
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob("shop-backup", "0 2 * * *"),
    )
    .await
    .ok();
    wait_pods_ready(&ts, "default", "app=postgres", 1, None, WAIT).await;

    // A successful run.
    let out = ts
        .kubectl(&[
            "create",
            "job",
            "--from=cronjob/shop-backup",
            "shop-backup-manual-1",
            "-n",
            "default",
        ])
        .await
        .ok();
    assert!(
        out.contains("job.batch/shop-backup-manual-1 created"),
        "{out}"
    );
    wait_job(&ts, "shop-backup-manual-1", "complete").await;
    let logs = ts
        .kubectl(&["logs", "job/shop-backup-manual-1", "-n", "default"])
        .await
        .ok();
    let tables: Vec<&str> = logs
        .lines()
        .filter(|l| l.starts_with("pg_dump: dumping contents of table \"public."))
        .collect();
    assert!(tables.len() >= 3, "the dump lists its tables:\n{logs}");
    assert!(
        tables.iter().all(|l| [" B)", " KiB)", " MiB)", " GiB)"]
            .iter()
            .any(|u| l.ends_with(u))),
        "each table line gives its size:\n{logs}"
    );
    let written = logs
        .lines()
        .find(|l| l.starts_with("backup written to /backups/shop-"))
        .unwrap_or_else(|| panic!("no 'backup written to' line:\n{logs}"));
    // backup written to /backups/shop-20260101-020000.dump (123.4 MiB) in 2.3s
    let rest = written.trim_start_matches("backup written to /backups/shop-");
    let (stamp, rest) = rest
        .split_once(".dump (")
        .unwrap_or_else(|| panic!("file name and size in: {written}"));
    assert!(
        stamp.len() == 15 && stamp.chars().filter(|c| c.is_ascii_digit()).count() == 14,
        "the file name carries the rendered date: {written}"
    );
    let (size, duration) = rest
        .split_once(") in ")
        .unwrap_or_else(|| panic!("size and duration in: {written}"));
    assert!(size.ends_with("iB") || size.ends_with(" B"), "{written}");
    let secs: f64 = duration
        .trim_end_matches('s')
        .parse()
        .unwrap_or_else(|_| panic!("a duration in seconds: {written}"));
    assert!(secs > 0.0 && secs < 60.0, "{written}");

    // Manual Jobs count for lastSuccessfulTime, as in kube's controller.
    let status = wait_until("lastSuccessfulTime on the CronJob", WAIT, || async {
        let st = cronjob_status(&ts, "shop-backup").await;
        if st["lastSuccessfulTime"].is_string() {
            Ok(st)
        } else {
            Err(st.to_string())
        }
    })
    .await;
    assert!(
        status["lastScheduleTime"].is_null(),
        "nothing was scheduled yet: {status}"
    );
    let jobs = ts
        .kubectl(&["get", "jobs", "-n", "default", "shop-backup-manual-1"])
        .await
        .ok();
    assert!(
        jobs.contains("Complete") || jobs.contains("1/1"),
        "kubectl get jobs shows it complete:\n{jobs}"
    );

    // No database: the same backup fails, and says why.
    ts.kubectl(&[
        "scale",
        "statefulset",
        "postgres",
        "-n",
        "default",
        "--replicas=0",
    ])
    .await
    .ok();
    wait_pods_ready(&ts, "default", "app=postgres", 0, None, WAIT).await;
    ts.kubectl(&[
        "create",
        "job",
        "--from=cronjob/shop-backup",
        "shop-backup-manual-2",
        "-n",
        "default",
    ])
    .await
    .ok();
    wait_job(&ts, "shop-backup-manual-2", "failed").await;
    let logs = ts
        .kubectl(&["logs", "job/shop-backup-manual-2", "-n", "default"])
        .await
        .ok();
    assert!(
        logs.contains("pg_dump: error: connection to server at \"postgres\"")
            && logs.contains("port 5432 failed: Connection refused"),
        "the failure says why:\n{logs}"
    );
    assert!(!logs.contains("backup written"), "{logs}");
    let describe = ts
        .kubectl(&["describe", "job", "shop-backup-manual-2", "-n", "default"])
        .await
        .ok();
    assert!(
        describe.contains("BackoffLimitExceeded"),
        "the Job failed on its backoff limit:\n{describe}"
    );
    let after = cronjob_status(&ts, "shop-backup").await;
    assert_eq!(
        after["lastSuccessfulTime"], status["lastSuccessfulTime"],
        "a failed run leaves the last success alone"
    );
}

/// A short schedule: the controller creates the Job itself, records
/// lastScheduleTime and, once it completes, lastSuccessfulTime. robfig/cron
/// (kube's parser) accepts `@every`, which keeps this well under a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backup_updates_the_cronjob_status() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], crate::common::POSTGRES)
        .await
        .ok();
    wait_pods_ready(&ts, "default", "app=postgres", 1, None, WAIT).await;
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob("nightly", "@every 5s"),
    )
    .await
    .ok();

    let job = wait_until("a scheduled Job", WAIT, || async {
        let out = ts
            .kubectl(&["get", "jobs", "-n", "default", "-o", "json"])
            .await;
        let v: Value = serde_json::from_str(&out.stdout).map_err(|e| e.to_string())?;
        v["items"]
            .as_array()
            .and_then(|items| {
                items.iter().find(|j| {
                    j["metadata"]["ownerReferences"][0]["name"] == "nightly"
                        && j["metadata"]["annotations"]
                            ["batch.kubernetes.io/cronjob-scheduled-timestamp"]
                            .is_string()
                })
            })
            .and_then(|j| j["metadata"]["name"].as_str())
            .map(str::to_string)
            .ok_or_else(|| out.stdout.clone())
    })
    .await;
    assert!(job.starts_with("nightly-"), "{job}");
    let status = cronjob_status(&ts, "nightly").await;
    assert!(
        status["lastScheduleTime"].is_string(),
        "lastScheduleTime is set when the Job is created: {status}"
    );
    wait_job(&ts, &job, "complete").await;
    wait_until(
        "lastSuccessfulTime after the scheduled run",
        WAIT,
        || async {
            let st = cronjob_status(&ts, "nightly").await;
            if st["lastSuccessfulTime"].is_string() {
                Ok(())
            } else {
                Err(st.to_string())
            }
        },
    )
    .await;
    let get = ts
        .kubectl(&["get", "cronjob", "nightly", "-n", "default"])
        .await
        .ok();
    let rows = crate::common::columns(&get);
    let last = rows
        .first()
        .and_then(|r| r.get("LAST SCHEDULE"))
        .cloned()
        .unwrap_or_default();
    assert!(
        !last.is_empty() && last != "<none>",
        "kubectl get cronjob shows LAST SCHEDULE:\n{get}"
    );
}
