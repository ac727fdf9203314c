//! End to end, by keys: the real console in tmux against the simulator.
//! The backups view lists a pg_dump CronJob; backup now (`t`, Enter)
//! creates a Job the pane follows to success with its log; with the
//! database scaled to zero the next run fails and the pane shows the last
//! log lines and the events. Suspend (`p`) shows in the view.

use std::path::Path;
use std::time::Duration;

use crate::tmux::{self, BIN, Tmux};

const WAIT: Duration = Duration::from_secs(60);

const CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: shop-backup
  namespace: default
spec:
  schedule: '0 2 * * *'
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
";

/// Starts the console in a 160x45 tmux session, in a home of its own so
/// that no user config leaks in.
fn start_console(tmux: &Tmux, home: &Path, kubeconfig: &Path) {
    tmux.start_console(BIN, home, kubeconfig, "", (160, 45));
}

/// The row of the backups table naming shop-backup.
fn backup_row(screen: &str) -> Option<&str> {
    screen
        .lines()
        .find(|l| l.contains("default") && l.contains("shop-backup") && l.contains("0 2 * * *"))
}

/// `t` on the selected backup, then Enter on the confirmation.
fn backup_now(tmux: &Tmux) {
    tmux.keys(&["t"]);
    tmux.wait_for("the confirmation", WAIT, |s| {
        s.contains("kubectl create job shop-backup-manual-")
    });
    tmux.keys(&["Enter"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_now_from_the_view_is_followed_to_success_then_to_failure() {
    tmux::require_tmux();
    crate::common::require_kubectl();
    let ts = crate::common::start().await;
    ts.kubectl_stdin(&["apply", "-f", "-"], crate::common::POSTGRES)
        .await
        .ok();
    ts.kubectl_stdin(&["apply", "-f", "-"], CRONJOB).await.ok();
    crate::common::wait_pods_ready(&ts, "default", "app=postgres", 1, None, WAIT).await;

    let tmux = Tmux::new("backups");
    let home = ts.dir.path().join("home");
    // The simulator runs on this test's runtime: tmux's waits sleep off it.
    let blocking = |f: &dyn Fn()| tokio::task::block_in_place(f);
    blocking(&|| {
        start_console(&tmux, &home, &ts.kubeconfig);
        tmux.wait_for("the overview", WAIT, |s| s.contains("Overview(all)"));
        tmux.keys(&["6"]);
        let screen = tmux.wait_for("the backup listed", WAIT, |s| backup_row(s).is_some());
        let row = backup_row(&screen).unwrap_or_default();
        assert!(row.contains("daily at 02:00"), "{row}");
        assert!(row.contains("never"), "no success yet: {row}");

        backup_now(&tmux);
        let screen = tmux.wait_for("the run to succeed", WAIT, |s| {
            s.contains("succeeded in") && s.contains("backup written to /backups/shop-")
        });
        assert!(
            screen.contains("Backup job/shop-backup-manual-"),
            "{screen}"
        );
        assert!(
            screen.contains("pg_dump: dumping contents of table"),
            "{screen}"
        );

        // Back in the table, the success counts.
        tmux.escape();
        tmux.wait_for("a fresh backup", WAIT, |s| {
            backup_row(s).is_some_and(|r| r.contains("fresh") && r.contains("succeeded"))
        });
    });

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

    blocking(&|| {
        // The clock stamps manual Job names to the second.
        std::thread::sleep(Duration::from_secs(1));
        backup_now(&tmux);
        let screen = tmux.wait_for("the run to fail with its last lines", WAIT, |s| {
            s.contains("FAILED after") && s.contains("Last log lines") && s.contains("Events")
        });
        assert!(screen.contains("Connection refused"), "{screen}");
        assert!(screen.contains("BackoffLimitExceeded"), "{screen}");

        // Suspend from the view, confirmed like any action.
        tmux.escape();
        tmux.keys(&["p"]);
        tmux.wait_for("the suspend confirmation", WAIT, |s| {
            s.contains("Suspend cronjob/shop-backup")
        });
        tmux.keys(&["Enter"]);
        tmux.wait_for("the backup suspended", WAIT, |s| {
            backup_row(s).is_some_and(|r| r.contains("yes"))
        });
        tmux.keys(&["q"]);
        tmux.wait_for("the console to exit", WAIT, |s| s.contains("EXITED 0"));
    });
}
