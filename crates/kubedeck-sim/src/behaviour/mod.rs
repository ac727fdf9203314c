//! What a simulated container does when it runs: serve forever, or exit
//! after a while with a code, as batch and backup workloads do.
//!
//! Batch pods (`restartPolicy: Never|OnFailure`) run for a few seconds and
//! exit 0. Database backup containers (`pg_dump`, `pg_dumpall`, `mysqldump`,
//! `redis-cli --rdb|BGSAVE`) only succeed when the database they name has a
//! Ready pod behind its Service, and their logs tell that story.
//!
//! Everything here is deterministic: the same pod (uid, spec, seed) always
//! runs as long and logs the same text.

mod command;
mod reach;
mod run;
mod shell;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::controllers::Ctx;
use crate::hash::fnv64_parts;
use crate::store::{meta_str, parse_time};
use command::Backup;
use run::BackupRun;

/// Overrides how long a batch container runs, in seconds.
pub(crate) const RUN_SECONDS_ANNOTATION: &str = "sim.kubedeck.io/run-seconds";
/// Overrides the exit code of a batch container.
pub(crate) const EXIT_CODE_ANNOTATION: &str = "sim.kubedeck.io/exit-code";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ContainerFate {
    RunForever,
    Exit {
        after: Duration,
        code: i32,
        /// "Completed" or "Error", as the kubelet reports a terminated container.
        reason: &'static str,
    },
}

fn exit(after: Duration, code: i32) -> ContainerFate {
    ContainerFate::Exit {
        after,
        code,
        reason: if code == 0 { "Completed" } else { "Error" },
    }
}

/// Decides what `container` of `pod` does once started.
pub(crate) fn outcome(ctx: &Ctx, pod: &Value, container: &Value) -> ContainerFate {
    let run_override = annotation(pod, RUN_SECONDS_ANNOTATION)
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    let code_override = annotation(pod, EXIT_CODE_ANNOTATION).and_then(|s| s.trim().parse().ok());

    if let Some(backup) = Backup::of(container) {
        let run = BackupRun::plan(ctx, pod, container, &backup, None);
        return exit(
            run_override.unwrap_or(run.duration),
            code_override.unwrap_or(run.code()),
        );
    }
    let batch = matches!(
        pod["spec"]["restartPolicy"].as_str(),
        Some("Never" | "OnFailure")
    );
    if !batch && run_override.is_none() && code_override.is_none() {
        return ContainerFate::RunForever;
    }
    let default_run = {
        // 2.0..4.0 s, fixed per pod and container.
        let h = fnv64_parts(
            &[
                &ctx.config.seed.to_string(),
                meta_str(pod, "uid"),
                container["name"].as_str().unwrap_or(""),
            ],
            0xff,
        );
        Duration::from_millis(2000 + h % 2001)
    };
    exit(
        run_override.unwrap_or(default_run),
        code_override.unwrap_or(0),
    )
}

/// The log of a backup container that started at `started`, up to `until`;
/// None for every other container (the kubelet's generator covers those).
pub(crate) fn log_lines(
    ctx: &Ctx,
    pod: &Value,
    container: &Value,
    started: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<Vec<(DateTime<Utc>, String)>> {
    let backup = Backup::of(container)?;
    let known = finished_code(pod, container["name"].as_str().unwrap_or(""), started);
    let run = BackupRun::plan(ctx, pod, container, &backup, known);
    Some(
        run.lines(&backup, started)
            .into_iter()
            .filter(|(t, _)| *t <= until)
            .collect(),
    )
}

fn annotation<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod["metadata"]["annotations"][key].as_str()
}

/// The exit code of the run of `name` that started at `started`, once it
/// has terminated: what was, not what would be now.
fn finished_code(pod: &Value, name: &str, started: DateTime<Utc>) -> Option<i32> {
    let statuses = pod["status"]["containerStatuses"].as_array()?;
    let init = pod["status"]["initContainerStatuses"].as_array();
    let status = statuses
        .iter()
        .chain(init.into_iter().flatten())
        .find(|s| s["name"].as_str() == Some(name))?;
    [
        &status["state"]["terminated"],
        &status["lastState"]["terminated"],
    ]
    .into_iter()
    .filter(|t| t.is_object())
    .find(|t| {
        t["startedAt"]
            .as_str()
            .and_then(parse_time)
            .is_some_and(|at| (at - started).num_seconds().abs() <= 1)
    })
    .and_then(|t| t["exitCode"].as_i64())
    .and_then(|c| i32::try_from(c).ok())
}

#[cfg(test)]
mod tests {
    use super::command::Tool;
    use super::*;
    use crate::resources;
    use crate::store::fmt_time;
    use crate::test_support::test_ctx;
    use serde_json::json;

    fn sh(script: &str) -> Value {
        json!({"name": "backup", "image": "postgres:16", "command": ["/bin/sh", "-c"], "args": [script]})
    }

    fn backup_pod(container: &Value) -> Value {
        json!({"metadata": {"name": "backup-28571234-x", "namespace": "selfmonitor", "uid": "u-1"},
               "spec": {"restartPolicy": "OnFailure", "containers": [container]}})
    }

    fn postgres(ctx: &Ctx, ready: bool) {
        ctx.store
            .create(
                &resources::SERVICES,
                json!({"metadata": {"name": "postgres", "namespace": "selfmonitor"},
                       "spec": {"clusterIP": "10.96.12.4", "selector": {"app": "postgres"},
                                "ports": [{"port": 5432}]}}),
            )
            .unwrap();
        ctx.store
            .create(
                &resources::PODS,
                json!({"metadata": {"name": "postgres-0", "namespace": "selfmonitor",
                                    "labels": {"app": "postgres"}},
                       "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]},
                       "status": {"phase": "Running", "podIP": "10.244.1.7", "conditions": [
                           {"type": "Ready", "status": if ready { "True" } else { "False" }}]}}),
            )
            .unwrap();
    }

    #[test]
    fn reads_targets_from_real_looking_backup_commands() {
        let b = Backup::of(&sh(
            "set -e\npg_dump -h postgres -U app -d selfmonitor | gzip > /backups/selfmonitor-$(date +%Y%m%d-%H%M%S).sql.gz",
        ))
        .unwrap();
        assert_eq!(b.tool, Tool::PgDump);
        assert_eq!(b.host.as_deref(), Some("postgres"));
        assert_eq!((b.port, b.db.as_str()), (5432, "selfmonitor"));
        assert_eq!(
            b.output.as_deref(),
            Some("/backups/selfmonitor-$(date +%Y%m%d-%H%M%S).sql.gz")
        );

        let url = Backup::of(&json!({"name": "b", "command": ["pg_dump",
            "postgresql://app:s3cret@db.shop.svc.cluster.local:6543/orders?sslmode=disable", "-Fc", "-f", "/out/x.dump"]}))
        .unwrap();
        assert_eq!(url.host.as_deref(), Some("db.shop.svc.cluster.local"));
        assert_eq!((url.port, url.db.as_str()), (6543, "orders"));
        assert_eq!(url.output.as_deref(), Some("/out/x.dump"));

        let env = Backup::of(&json!({"name": "b", "command": ["bash", "-euo", "pipefail", "-c",
            "export STAMP=x; PGPASSWORD=$PASS pg_dump --host=${DB_HOST} --dbname \"$DB\" > /b/$DB.sql"],
            "env": [{"name": "DB_HOST", "value": "pg.data"}, {"name": "DB", "value": "billing"}]}))
        .unwrap();
        assert_eq!(env.host.as_deref(), Some("pg.data"));
        assert_eq!(env.db, "billing");
        assert_eq!(env.output.as_deref(), Some("/b/billing.sql"));

        let pghost = Backup::of(
            &json!({"name": "b", "command": ["pg_dumpall", "-U", "postgres"],
            "env": [{"name": "PGHOST", "value": "postgres"}]}),
        )
        .unwrap();
        assert_eq!(pghost.tool, Tool::PgDumpAll);
        assert_eq!(pghost.host.as_deref(), Some("postgres"));

        let my = Backup::of(&sh(
            "mysqldump -h mysql -P 3307 -uroot -p\"$MYSQL_ROOT_PASSWORD\" --single-transaction shop 2>/dev/null | gzip > /backups/shop.sql.gz",
        ))
        .unwrap();
        assert_eq!(my.tool, Tool::MysqlDump);
        assert_eq!(my.host.as_deref(), Some("mysql"));
        assert_eq!((my.port, my.db.as_str()), (3307, "shop"));
        assert_eq!(my.output.as_deref(), Some("/backups/shop.sql.gz"));

        let redis = Backup::of(&sh(
            "redis-cli -h redis-master -p 6380 --rdb /data/dump.rdb && echo ok",
        ))
        .unwrap();
        assert_eq!(redis.tool, Tool::RedisRdb);
        assert_eq!(
            (redis.host.as_deref(), redis.port),
            (Some("redis-master"), 6380)
        );
        let bg =
            Backup::of(&json!({"name": "b", "command": ["redis-cli", "-h", "cache", "BGSAVE"]}))
                .unwrap();
        assert_eq!(bg.tool, Tool::RedisBgsave);

        assert!(Backup::of(&sh("redis-cli -h redis PING")).is_none());
        assert!(Backup::of(&sh("echo 'pg_dump -h x' && sleep 5")).is_none());
        assert!(Backup::of(&json!({"name": "web", "image": "nginx"})).is_none());
    }

    #[test]
    fn backup_succeeds_only_with_a_ready_database_pod() {
        let c =
            sh("pg_dump -h postgres -U app -d selfmonitor | gzip > /backups/selfmonitor.sql.gz");
        let pod = backup_pod(&c);

        let ctx = test_ctx(&["selfmonitor"]);
        let ContainerFate::Exit {
            code,
            reason,
            after,
        } = outcome(&ctx, &pod, &c)
        else {
            panic!("a backup must exit");
        };
        assert_eq!((code, reason), (1, "Error"));
        assert!(after <= Duration::from_millis(1300));

        postgres(&ctx, false);
        assert!(matches!(
            outcome(&ctx, &pod, &c),
            ContainerFate::Exit { code: 1, .. }
        ));

        let ctx = test_ctx(&["selfmonitor"]);
        postgres(&ctx, true);
        let ContainerFate::Exit {
            code,
            reason,
            after,
        } = outcome(&ctx, &pod, &c)
        else {
            panic!("a backup must exit");
        };
        assert_eq!((code, reason), (0, "Completed"));
        assert!(after > Duration::from_millis(900));
        // The FQDN and a StatefulSet pod name resolve to the same database.
        let fqdn = sh("pg_dump -h postgres.selfmonitor.svc.cluster.local selfmonitor");
        assert!(matches!(
            outcome(&ctx, &pod, &fqdn),
            ContainerFate::Exit { code: 0, .. }
        ));
        let sts = sh("pg_dump -h postgres-0.postgres selfmonitor");
        assert!(matches!(
            outcome(&ctx, &pod, &sts),
            ContainerFate::Exit { code: 0, .. }
        ));
        let other = sh("pg_dump -h postgres-1.postgres selfmonitor");
        assert!(matches!(
            outcome(&ctx, &pod, &other),
            ContainerFate::Exit { code: 1, .. }
        ));
    }

    #[test]
    fn batch_pods_exit_and_services_run_forever() {
        let ctx = test_ctx(&["selfmonitor"]);
        let c = json!({"name": "work", "image": "busybox"});
        let svc = json!({"metadata": {"uid": "a"}, "spec": {"containers": [c]}});
        assert_eq!(outcome(&ctx, &svc, &c), ContainerFate::RunForever);

        let batch = json!({"metadata": {"uid": "a"}, "spec": {"restartPolicy": "Never"}});
        let ContainerFate::Exit { after, code, .. } = outcome(&ctx, &batch, &c) else {
            panic!("batch containers exit");
        };
        assert_eq!(code, 0);
        assert!((2000..=4001).contains(&(after.as_millis() as u64)));
        assert_eq!(outcome(&ctx, &batch, &c), outcome(&ctx, &batch, &c));

        let tuned = json!({"metadata": {"uid": "a", "annotations": {
            RUN_SECONDS_ANNOTATION: "12", EXIT_CODE_ANNOTATION: "3"}},
            "spec": {"restartPolicy": "OnFailure"}});
        assert_eq!(
            outcome(&ctx, &tuned, &c),
            ContainerFate::Exit {
                after: Duration::from_secs(12),
                code: 3,
                reason: "Error"
            }
        );
    }

    #[test]
    fn success_logs_list_tables_then_the_written_file() {
        let ctx = test_ctx(&["selfmonitor"]);
        postgres(&ctx, true);
        let c = sh(
            "pg_dump -h postgres -U app -d selfmonitor | gzip > /backups/selfmonitor-$(date +%Y%m%d-%H%M%S).sql.gz",
        );
        let pod = backup_pod(&c);
        let started = parse_time("2024-05-01T02:00:00Z").unwrap();
        let far = started + chrono::Duration::hours(1);
        let lines = log_lines(&ctx, &pod, &c, started, far).unwrap();
        assert_eq!(lines, log_lines(&ctx, &pod, &c, started, far).unwrap());
        let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
        let tables = text
            .iter()
            .filter(|l| l.starts_with("pg_dump: dumping contents of table \"public."))
            .count();
        assert!((5..=10).contains(&tables), "{text:?}");
        let last = text.last().unwrap();
        assert!(
            last.starts_with("backup written to /backups/selfmonitor-20240501-020000.sql.gz ("),
            "{last}"
        );
        assert!(last.contains(" MiB) in "), "{last}");
        assert!(lines.windows(2).all(|w| w[0].0 <= w[1].0));
        let ContainerFate::Exit { after, .. } = outcome(&ctx, &pod, &c) else {
            panic!("exits");
        };
        assert_eq!(
            lines.last().unwrap().0,
            started + chrono::Duration::from_std(after).unwrap()
        );

        // Only what has been written by `until`.
        let early = log_lines(
            &ctx,
            &pod,
            &c,
            started,
            started + chrono::Duration::milliseconds(100),
        )
        .unwrap();
        assert!(!early.is_empty() && early.len() < lines.len());
        assert!(
            early
                .iter()
                .all(|(t, _)| *t <= started + chrono::Duration::milliseconds(100))
        );

        let web = json!({"name": "web", "image": "nginx"});
        assert!(log_lines(&ctx, &pod, &web, started, far).is_none());
    }

    #[test]
    fn failure_logs_say_why_the_connection_failed() {
        let ctx = test_ctx(&["selfmonitor"]);
        postgres(&ctx, false);
        let c =
            sh("pg_dump -h postgres.selfmonitor.svc.cluster.local -U app selfmonitor > /b/x.sql");
        let pod = backup_pod(&c);
        let started = Utc::now();
        let lines = log_lines(
            &ctx,
            &pod,
            &c,
            started,
            started + chrono::Duration::seconds(5),
        )
        .unwrap();
        let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            text,
            vec![
                "pg_dump: error: connection to server at \"postgres.selfmonitor.svc.cluster.local\" (10.96.12.4), port 5432 failed: Connection refused",
                "\tIs the server running on that host and accepting TCP/IP connections?",
            ]
        );

        let my = sh("mysqldump -h mysql shop > /b/shop.sql");
        let lines = log_lines(
            &ctx,
            &pod,
            &my,
            started,
            started + chrono::Duration::seconds(5),
        )
        .unwrap();
        assert_eq!(
            lines[0].1,
            "mysqldump: Got error: 2005: Unknown MySQL server host 'mysql' (-2) when trying to connect"
        );

        // A finished run keeps the story it had, even if the database came back.
        let mut done = pod.clone();
        done["status"] = json!({"containerStatuses": [{"name": "backup", "state": {"terminated": {
            "exitCode": 0, "startedAt": fmt_time(started)}}}]});
        let lines = log_lines(
            &ctx,
            &done,
            &c,
            started,
            started + chrono::Duration::hours(1),
        )
        .unwrap();
        assert!(
            lines
                .last()
                .unwrap()
                .1
                .starts_with("backup written to /b/x.sql (")
        );
    }
}
