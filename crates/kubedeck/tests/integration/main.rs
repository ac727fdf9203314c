//! End-to-end tests of the kubedeck binary: headless commands and the console in tmux.
//! One test binary of modules, so the crate's acceptance tests link once.

// A failed step in a test is the test's failure: unwrap, expect and panic say why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common {
    pub use kubedeck_sim::testing::*;

    /// Runs this crate's kubedeck binary on the test's cluster.
    pub async fn kubedeck(ts: &TestSim, args: &[&str]) -> Out {
        ts.kubedeck(env!("CARGO_BIN_EXE_kubedeck"), args).await
    }
}

mod actions_safety;
mod console_actions_tmux;
mod console_backups_tmux;
mod console_browse_tmux;
mod console_cli;
mod console_delete_tmux;
mod console_edit_tmux;
mod console_keys_tmux;
mod console_logs_tmux;
mod console_metrics_tmux;
mod console_namespace_tmux;
mod console_oom_tmux;
mod console_pod_yaml_tmux;
mod console_portforward_tmux;
mod console_runbook_tmux;
mod console_secret_tmux;
mod console_shell_tmux;
mod console_tmux;
mod console_xray_tmux;
mod drain;
mod exec_cli;
mod faults;
mod headless_faults;
mod http_faults;
mod ops_backups;
mod ops_recovery;
mod ops_recovery_prometheus;
mod port_forward;
mod reliability;
mod runbook_check;
mod runbook_sim;
mod sim_cli;
mod sim_scale;
mod sim_seed_backups;
mod terminal_restore;
mod tmux;
