//! The backups view and the backup run pane, drawn at 120x30 from a test
//! cluster: a fresh, a stale and a never-succeeded backup.

use chrono::Duration;
use serde_json::{Value, json};

use crate::cluster::Cache;
use crate::cluster::cache::Writers;
use crate::input::action::View;
use crate::input::keymap::Keymap;
use crate::state::AppState;
use crate::test_support::{cluster_with_writers, draw, fg_of, now, resize, screen_text, sources};
use crate::theme::{Role, Theme};
use crate::update::{Effect, Msg, Updated, update};
use crate::view_model;
use crate::views::{Query, Sources, TableView, backups::BackupsView};
use kubedeck_core::actions::{Command, ObjectRef};

use super::backup_view::BackupFollow;

fn ago(secs: i64) -> String {
    (now() - Duration::seconds(secs)).to_rfc3339()
}

fn cronjob(ns: &str, name: &str, schedule: &str, suspend: bool, age: i64, labels: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}"),
                     "creationTimestamp": ago(age), "labels": labels},
        "spec": {"schedule": schedule, "suspend": suspend, "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "backup", "image": "postgres:16.4"}], "restartPolicy": "Never"}}}}},
    })
}

/// A Job of CronJob `ns/owner` started `start` seconds ago; `took` None
/// while it runs; `ok` whether it succeeded.
fn job(ns: &str, owner: &str, name: &str, start: i64, took: Option<i64>, ok: bool) -> Value {
    let mut status = json!({"startTime": ago(start)});
    if let Some(took) = took {
        let end = ago(start - took);
        status["conditions"] = if ok {
            status["completionTime"] = json!(end);
            json!([{"type": "Complete", "status": "True", "lastTransitionTime": end}])
        } else {
            json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit", "lastTransitionTime": end}])
        };
    }
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "creationTimestamp": ago(start),
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": owner,
                                          "uid": format!("uid-{ns}-{owner}"), "controller": true}]},
        "spec": {"template": {"spec": {"containers": [{"name": "backup", "image": "postgres:16.4"}], "restartPolicy": "Never"}}},
        "status": status,
    })
}

/// The test cluster plus three backups: `db/orders-backup` every 6 hours,
/// last success 3h ago (fresh); `db/users-dump` daily and suspended, last
/// success 3 days ago (stale); `analytics/warehouse` weekly, a backup by
/// its label, created 2 days ago and never successful.
fn backups() -> (Cache, Writers) {
    let (cache, mut w) = cluster_with_writers();
    let h = 3600;
    for obj in [
        cronjob(
            "db",
            "orders-backup",
            "0 */6 * * *",
            false,
            30 * 86_400,
            json!({}),
        ),
        cronjob(
            "db",
            "users-dump",
            "0 2 * * *",
            true,
            30 * 86_400,
            json!({}),
        ),
        cronjob(
            "analytics",
            "warehouse",
            "30 1 * * 0",
            false,
            2 * 86_400,
            json!({"kubedeck.io/backup": "true"}),
        ),
        job(
            "db",
            "orders-backup",
            "orders-backup-29000100",
            3 * h,
            Some(42),
            true,
        ),
        job(
            "db",
            "orders-backup",
            "orders-backup-29000090",
            9 * h,
            Some(65),
            false,
        ),
        job(
            "db",
            "orders-backup",
            "orders-backup-29000080",
            15 * h,
            Some(40),
            true,
        ),
        job(
            "db",
            "users-dump",
            "users-dump-28990000",
            3 * 86_400 + 60,
            Some(60),
            true,
        ),
        job(
            "analytics",
            "warehouse",
            "warehouse-28999000",
            86_400,
            Some(300),
            false,
        ),
    ] {
        w.apply_json(&obj).expect("test object is valid");
    }
    (cache, w)
}

struct Console {
    state: AppState,
    cache: Cache,
    writers: Writers,
    keymap: Keymap,
}

impl Console {
    fn new() -> Console {
        let (cache, writers) = backups();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("kind-test", None, false);
        update(&mut state, resize(30), &cache, &keymap, now());
        let mut c = Console {
            state,
            cache,
            writers,
            keymap,
        };
        c.send(Msg::Key("6".parse().expect("key")));
        c
    }

    fn send(&mut self, msg: Msg) -> Updated {
        update(&mut self.state, msg, &self.cache, &self.keymap, now())
    }

    fn key(&mut self, k: &str) -> Updated {
        self.send(Msg::Key(k.parse().expect("test key parses")))
    }

    fn draw(&self) -> ratatui::buffer::Buffer {
        draw(&self.state, &self.cache, &self.keymap, 120, 30)
    }

    fn apply(&mut self, obj: Value) {
        self.writers.apply_json(&obj).expect("test object is valid");
    }
}

#[test]
fn the_view_lists_backups_by_pattern_or_label_with_freshness() {
    let (cache, _w) = backups();
    let rows = BackupsView.rows(sources(&cache), &Query::default(), now());
    assert_eq!(
        rows,
        [
            ("analytics".to_string(), "warehouse".to_string()),
            ("db".into(), "orders-backup".into()),
            ("db".into(), "users-dump".into()),
        ],
        "shop/report is no backup"
    );
    let cells = |name: &(String, String)| -> Vec<(String, Role)> {
        BackupsView
            .cells(sources(&cache), name, now())
            .expect("listed")
            .into_iter()
            .map(|c| (c.text, c.role))
            .collect()
    };
    let orders = cells(&rows[1]);
    assert_eq!(orders[2].0, "every 6 hours");
    assert_eq!(orders[3].0, "0 */6 * * *");
    assert_eq!(orders[5].0, "179m ago");
    assert_eq!(orders[6], ("fresh".into(), Role::Ok));
    assert_eq!(orders[7], ("succeeded".into(), Role::Ok));
    assert_eq!(orders[8].0, "42s");
    let users = cells(&rows[2]);
    assert_eq!(users[4], ("yes".into(), Role::Warning));
    assert_eq!(users[6], ("stale".into(), Role::Danger));
    let warehouse = cells(&rows[0]);
    assert_eq!(warehouse[5].0, "never");
    assert_eq!(warehouse[6].0, "no run yet");
    assert_eq!(warehouse[7], ("failed".into(), Role::Danger));
}

#[test]
fn configured_patterns_decide_which_cronjobs_are_backups() {
    let (cache, _w) = backups();
    let patterns = ["report".to_string()];
    let src = Sources {
        backup_patterns: &patterns,
        ..sources(&cache)
    };
    let rows = BackupsView.rows(src, &Query::default(), now());
    let names: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(names, ["warehouse", "report"], "the label always counts");
}

#[test]
fn sorting_by_freshness_puts_stale_backups_together() {
    let (cache, _w) = backups();
    let query = Query {
        sort_column: 6,
        descending: true,
        ..Query::default()
    };
    let rows = BackupsView.rows(sources(&cache), &query, now());
    assert_eq!(rows[0].1, "users-dump");
}

#[test]
fn snapshot_backups_view_with_history() {
    let mut c = Console::new();
    c.key("j");
    let buf = c.draw();
    insta::assert_snapshot!("backups_view", screen_text(&buf));
    let theme = Theme::load(None, None, false).0;
    assert_eq!(
        fg_of(&buf, "stale"),
        theme.style(Role::Danger).fg.expect("colour")
    );
    assert_eq!(
        fg_of(&buf, "fresh"),
        theme.style(Role::Ok).fg.expect("colour")
    );
}

/// Backup now on db/orders-backup, answered as the runtime would.
fn backup_now(c: &mut Console) -> (String, Vec<Effect>) {
    c.key("j");
    let out = c.key("t");
    let Some(Effect::Plan { command, .. }) = out.effects.into_iter().next() else {
        panic!("t asks for a plan");
    };
    let Command::TriggerCronJob { cronjob, job_name } = command.clone() else {
        panic!("t plans a trigger, not {command:?}");
    };
    assert_eq!(cronjob, ObjectRef::new("db", "orders-backup"));
    c.state.dialog = None;
    let out = c.send(Msg::Executed {
        command,
        result: Ok(format!("job/{job_name} created from cronjob/orders-backup")),
    });
    (job_name, out.effects)
}

#[test]
fn backup_now_opens_the_run_pane_which_follows_the_job_to_success() {
    let mut c = Console::new();
    let (name, effects) = backup_now(&mut c);
    // The run pane shows the Job's events, Normal ones too.
    assert_eq!(
        effects,
        [
            Effect::FollowBackupLogs(BackupFollow {
                namespace: "db".into(),
                job: name.clone(),
            }),
            Effect::WatchAllEvents(true)
        ]
    );
    assert!(screen_text(&c.draw()).contains(&format!("waiting for job/{name} to appear")));
    c.apply(job("db", "orders-backup", &name, 12, None, true));
    let out = c.send(Msg::Watch(crate::cluster::watch::WatchMsg::Changed(
        crate::cluster::Kind::Job,
    )));
    assert!(out.redraw);
    let vm = view_model::build(&c.state, &c.cache, &c.keymap, now());
    assert_eq!(
        vm.refresh_at,
        Some(now() + Duration::seconds(1)),
        "the clock ticks"
    );
    let screen = screen_text(&c.draw());
    assert!(screen.contains("running, 12s elapsed"), "{screen}");
    c.send(Msg::BackupLog {
        job: name.clone(),
        line: "pg_dump: dumping contents of table \"public.orders\"".into(),
        note: false,
    });
    c.send(Msg::BackupLog {
        job: "some-other-run".into(),
        line: "not ours".into(),
        note: false,
    });
    c.apply(job("db", "orders-backup", &name, 12, Some(9), true));
    let screen = screen_text(&c.draw());
    assert!(screen.contains("succeeded in 9s"), "{screen}");
    assert!(screen.contains("public.orders"), "{screen}");
    assert!(!screen.contains("not ours"), "{screen}");
    let vm = view_model::build(&c.state, &c.cache, &c.keymap, now());
    assert_eq!(vm.refresh_at, None, "an ended run does not tick");
    // Esc closes the pane, and with it goes the log stream.
    assert!(super::backup_view::following(&c.state));
    c.key("esc");
    assert_eq!(c.state.screen().view, View::Backups);
    assert!(!c.state.screen().covered(), "the table again");
    assert!(!super::backup_view::following(&c.state));
}

#[test]
fn snapshot_failed_run_shows_the_last_log_lines_and_events() {
    let mut c = Console::new();
    let (name, _) = backup_now(&mut c);
    c.apply(job("db", "orders-backup", &name, 20, Some(6), false));
    let pod = format!("{name}-x7k2p");
    c.apply(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod, "namespace": "db", "creationTimestamp": ago(19),
                     "labels": {"batch.kubernetes.io/job-name": name, "job-name": name}},
        "spec": {"containers": [{"name": "backup", "image": "postgres:16.4"}], "restartPolicy": "Never"},
        "status": {"phase": "Failed", "containerStatuses": [{"name": "backup", "ready": false, "restartCount": 0,
            "image": "postgres:16.4", "imageID": "",
            "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}
    }));
    for (i, (kind, obj, type_, reason, msg)) in [
        (
            "Job",
            name.as_str(),
            "Normal",
            "SuccessfulCreate",
            format!("Created pod: {pod}"),
        ),
        (
            "Pod",
            pod.as_str(),
            "Normal",
            "Started",
            "Started container backup".to_string(),
        ),
        (
            "Job",
            name.as_str(),
            "Warning",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit".to_string(),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        c.apply(json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": format!("ev-{i}"), "namespace": "db", "creationTimestamp": ago(18 - i as i64)},
            "involvedObject": {"kind": kind, "name": obj, "namespace": "db"},
            "type": type_, "reason": reason, "message": msg, "count": 1,
            "lastTimestamp": ago(18 - 4 * i as i64),
        }));
    }
    for line in [
        "pg_dump: error: connection to server at \"postgres\" (10.96.0.20), port 5432 failed: Connection refused",
        "\tIs the server running on that host and accepting TCP/IP connections?",
    ] {
        c.send(Msg::BackupLog {
            job: name.clone(),
            line: line.into(),
            note: false,
        });
    }
    assert_eq!(name, "orders-backup-manual-030000", "named from the clock");
    let screen = screen_text(&c.draw());
    insta::assert_snapshot!("backup_run_failed", screen);
    assert!(screen.contains("FAILED after 6s: BackoffLimitExceeded"));
    assert!(screen.contains("Connection refused"));
}

#[test]
fn leaving_the_run_pane_for_another_view_ends_the_following() {
    let mut c = Console::new();
    backup_now(&mut c);
    assert!(super::backup_view::following(&c.state));
    c.key("j");
    assert!(
        c.state.screen().backup_run().is_some(),
        "table keys do nothing"
    );
    c.key("1");
    assert_eq!(c.state.screen().view, View::Pods);
    assert!(!super::backup_view::following(&c.state));
}
