//! Backups with the real binary against the simulator: `kubedeck backup
//! run --wait` follows a pg_dump Job to success (exit 0), fails with the
//! last log lines and the events once the database is scaled to zero, and
//! `kubedeck backup list` reports freshness with a non-zero exit when a
//! backup is stale.

use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

fn backup_cronjob(name: &str, schedule: &str, suspend: bool, labels: &str) -> String {
    format!(
        "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: default
  labels: {{{labels}}}
spec:
  schedule: '{schedule}'
  suspend: {suspend}
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_run_succeeds_then_fails_without_the_database() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], crate::common::POSTGRES)
        .await
        .ok();
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob("shop-backup", "0 2 * * *", false, ""),
    )
    .await
    .ok();
    crate::common::wait_pods_ready(&ts, "default", "app=postgres", 1, None, WAIT).await;

    let ok = crate::common::kubedeck(
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
    assert!(ok.success, "stdout:\n{}\nstderr:\n{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.contains("created from cronjob/shop-backup"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.contains("backup written to /backups/shop-"),
        "the pod's log streams:\n{}",
        ok.stdout
    );
    assert!(ok.stdout.contains("succeeded in"), "{}", ok.stdout);
    let job = ok
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("job/")?.split_whitespace().next())
        .expect("the job's name")
        .to_string();
    assert!(job.starts_with("shop-backup-manual-"), "{job}");
    // Created as `kubectl create job --from` does: owned by the CronJob.
    let owner = ts
        .kubectl(&[
            "get",
            "job",
            &job,
            "-n",
            "default",
            "-o",
            "jsonpath={.metadata.ownerReferences[0].name}",
        ])
        .await
        .ok();
    assert_eq!(owner, "shop-backup");

    let list = crate::common::kubedeck(&ts, &["backup", "list", "-n", "default"]).await;
    assert!(
        list.success,
        "stdout:\n{}\nstderr:\n{}",
        list.stdout, list.stderr
    );
    let rows = crate::common::columns(&list.stdout);
    let row = rows
        .iter()
        .find(|r| r.get("NAME").map(String::as_str) == Some("shop-backup"))
        .unwrap_or_else(|| panic!("shop-backup listed:\n{}", list.stdout));
    assert_eq!(row["SCHEDULE"], "daily at 02:00");
    assert_eq!(row["CRON"], "0 2 * * *");
    assert_eq!(row["FRESHNESS"], "fresh");
    assert_eq!(row["LAST JOB"], format!("{job} succeeded"));

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
    crate::common::wait_pods_ready(&ts, "default", "app=postgres", 0, None, WAIT).await;
    let failed = crate::common::kubedeck(
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
    assert!(!failed.success, "stdout:\n{}", failed.stdout);
    let last = failed
        .stdout
        .split_once("Last log lines:")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("the last log lines are shown:\n{}", failed.stdout));
    assert!(last.contains("Connection refused"), "{}", failed.stdout);
    assert!(
        failed.stdout.contains("BackoffLimitExceeded"),
        "{}",
        failed.stdout
    );
    assert!(failed.stderr.contains("failed"), "{}", failed.stderr);

    // Both runs went through the action core's audit log.
    let audit = crate::common::kubedeck(&ts, &["audit", "--json"])
        .await
        .ok();
    assert_eq!(
        audit
            .matches("\"action\":\"trigger-cronjob\",\"parameters\"")
            .count(),
        2,
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_with_no_success_for_two_intervals_is_stale() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    // Suspended, every 1s: with no success it is stale two seconds after
    // its creation. Found by its label, not its name.
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob(
            "orders-nightly",
            "@every 1s",
            true,
            "kubedeck.io/backup: 'true'",
        ),
    )
    .await
    .ok();
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob("report-mailer", "@every 1s", true, ""),
    )
    .await
    .ok();
    let out = crate::common::wait_until("a stale backup", WAIT, || async {
        let out = crate::common::kubedeck(&ts, &["backup", "list", "-A"]).await;
        if out.stdout.contains("STALE") {
            Ok(out)
        } else {
            Err(format!("{}{}", out.stdout, out.stderr))
        }
    })
    .await;
    assert!(!out.success);
    assert!(
        out.stderr
            .contains("1 backup is stale: default/orders-nightly"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains("report-mailer"),
        "not a backup:\n{}",
        out.stdout
    );
    let rows = crate::common::columns(&out.stdout);
    assert_eq!(rows[0]["SUSPENDED"], "yes");
    assert_eq!(rows[0]["LAST SUCCESS"], "never");
    assert_eq!(rows[0]["SCHEDULE"], "every 1s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_patterns_decide_what_backup_list_finds() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    let config = ts.dir.path().join("config/kubedeck");
    std::fs::create_dir_all(&config).expect("config dir");
    std::fs::write(
        config.join("config.toml"),
        "[backups]\npatterns = [\"mailer\"]\n",
    )
    .expect("write config");
    for cj in [
        backup_cronjob("report-mailer", "0 2 * * *", false, ""),
        backup_cronjob("shop-backup", "0 2 * * *", false, ""),
        backup_cronjob("orders", "0 3 * * *", false, "kubedeck.io/backup: 'true'"),
    ] {
        ts.kubectl_stdin(&["apply", "-f", "-"], &cj).await.ok();
    }
    let out = crate::common::kubedeck(&ts, &["backup", "list", "-n", "default"]).await;
    assert!(out.success, "{}{}", out.stdout, out.stderr);
    let names: Vec<String> = crate::common::columns(&out.stdout)
        .iter()
        .map(|r| r["NAME"].clone())
        .collect();
    assert_eq!(
        names,
        ["orders", "report-mailer"],
        "the label always counts; `backup` is no longer a pattern"
    );
}

/// A schedule that never fires (February 30th) leaves the freshness
/// unknowable: `backup list` says so and exits 4, not 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknowable_freshness_is_inconclusive() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    for cj in [
        backup_cronjob("leap-backup", "0 0 30 2 *", false, ""),
        backup_cronjob("shop-backup", "0 2 * * *", false, ""),
    ] {
        ts.kubectl_stdin(&["apply", "-f", "-"], &cj).await.ok();
    }
    let out = crate::common::kubedeck(&ts, &["backup", "list", "-n", "default"]).await;
    assert_eq!(out.code, Some(4), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("the freshness of 1 backup cannot be told (the schedule cannot be read): default/leap-backup"),
        "{}",
        out.stderr
    );
    let rows = crate::common::columns(&out.stdout);
    let leap = rows
        .iter()
        .find(|r| r["NAME"] == "leap-backup")
        .unwrap_or_else(|| panic!("leap-backup listed:\n{}", out.stdout));
    assert_eq!(leap["FRESHNESS"], "unknown");
}

/// Without `--wait`, the command says how to follow the Job it started,
/// not to run the backup again (which would start another Job).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_run_without_wait_names_a_way_to_follow_its_job() {
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(
        &["apply", "-f", "-"],
        &backup_cronjob("shop-backup", "0 2 * * *", false, ""),
    )
    .await
    .ok();
    let out = crate::common::kubedeck(
        &ts,
        &["backup", "run", "cronjob/shop-backup", "-n", "default"],
    )
    .await;
    assert!(out.success, "{}{}", out.stdout, out.stderr);
    let job = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("job/")?.split_whitespace().next())
        .expect("the job's name")
        .to_string();
    assert!(
        out.stdout.contains(&format!(
            "follow it with: kubectl logs -f job/{job} -n default"
        )),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("kubedeck backup run …"),
        "{}",
        out.stdout
    );
    // `--timeout` without `--wait` would be ignored: it is refused instead.
    let refused = crate::common::kubedeck(
        &ts,
        &["backup", "run", "cronjob/shop-backup", "--timeout", "5m"],
    )
    .await;
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("--wait"), "{}", refused.stderr);
}
