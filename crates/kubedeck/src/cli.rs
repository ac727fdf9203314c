//! The command line. Each subcommand takes only the flags it acts on, so
//! `--help` lists nothing that a command would silently ignore; the
//! console's own flags come before any subcommand, and with one they are
//! an error.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// What the headless commands exit with, besides 0 (success) and 2 (clap:
/// the command line itself is wrong).
pub mod exit {
    /// The test failed, a backup is stale or failed, a runbook failed, a
    /// drain did not finish, or kubedeck could not do what was asked.
    pub const FAILURE: u8 = 1;
    /// `chaos pod-kill`: the target was not in its steady state, so nothing
    /// was killed.
    pub const NOT_STEADY: u8 = 3;
    /// kubedeck could not tell: a runbook ended incomplete (a check could
    /// not be evaluated), or a backup's freshness is unknown.
    pub const INCONCLUSIVE: u8 = 4;
    /// A change was sent, its answer was lost and it could not be read
    /// back: it may or may not have been made.
    pub const OUTCOME_UNKNOWN: u8 = 5;
}

const EXIT_CODES: &str = "\
Exit codes of the subcommands: 0 success; 1 failure (a test failed, a
backup is stale or failed, a runbook failed, a drain did not finish, or
an error); 2 the command line is wrong; 3 `chaos pod-kill` refused
because the target was not in its steady state (nothing was killed); 4
inconclusive (a runbook ended incomplete, or a backup's freshness is
unknown); 5 outcome unknown (a change was sent, its answer was lost and
it could not be read back: it may or may not have been made; check
before retrying). A change whose answer was lost is read back: found
made, it succeeded, and says so; found not made, it failed (1).";

#[derive(Debug, Parser)]
#[command(
    name = "kubedeck",
    version,
    about = "A terminal operations console for Kubernetes",
    after_help = EXIT_CODES,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Open the console on a built-in simulated cluster: no cluster needed.
    Demo(DemoArgs),
    /// Serve a simulated Kubernetes cluster that kubectl and other clients can use.
    Sim(SimArgs),
    /// Print the audit log of the actions taken (or refused) with kubedeck.
    Audit(AuditArgs),
    /// Recovery tests: kill pods and measure, from the watch streams, how
    /// the workload recovers.
    #[command(subcommand)]
    Chaos(crate::commands::chaos::ChaosCommand),
    /// Database backup CronJobs: freshness, and running one now.
    #[command(subcommand)]
    Backup(crate::commands::backup::BackupCommand),
    /// Runbooks: run one step by step, check files, list them.
    #[command(subcommand)]
    Runbook(crate::commands::runbook::RunbookCommand),
    /// Forward a local port on 127.0.0.1 to a pod's port, as `kubectl
    /// port-forward` does, until Ctrl-C.
    PortForward(crate::commands::port_forward::PortForwardArgs),
    /// Run a command in a container, as `kubectl exec` does; exits with its exit code.
    Exec(crate::commands::exec::ExecArgs),
    /// Drain a node as `kubectl drain` does: cordon it, then evict its pods.
    ///
    /// Each pod goes through the eviction API, which honours
    /// PodDisruptionBudgets (a refusal is retried with a back-off);
    /// DaemonSet pods (with --ignore-daemonsets) and mirror pods stay. Exits
    /// 1 when the drain does not finish; the node then stays cordoned.
    Drain(crate::commands::node::DrainArgs),
    /// Mark a node unschedulable, as `kubectl cordon` does: its pods keep running.
    Cordon(crate::commands::node::NodeArgs),
    /// Mark a node schedulable again, as `kubectl uncordon` does.
    Uncordon(crate::commands::node::NodeArgs),
}

/// Which cluster a command talks to.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ClusterArgs {
    /// The kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
}

/// What the console shows and how it looks.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ViewArgs {
    /// Show only this namespace (default: the context's `namespace` in
    /// config.toml, else all namespaces).
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Show all namespaces. A context's `namespace` in config.toml still
    /// wins over it for now.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Refuse every change to the cluster (each refusal is audited).
    #[arg(long)]
    pub readonly: bool,
    /// A built-in theme (dark, light, high-contrast), a theme in the config folder, or a file.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// A built-in keymap (default, tmux-safe), a keymap in the config folder, or a file.
    #[arg(long, value_name = "NAME")]
    pub keymap: Option<String>,
    /// The Prometheus to draw sparklines from (default: the context's
    /// `prometheus` in config.toml, else `[metrics.prometheus]`'s url, else
    /// metrics-server sampled from now on).
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
}

/// The console on a kubeconfig context: `kubedeck` with no subcommand.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub view: ViewArgs,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The simulated cluster's scenario.
    #[arg(long, default_value = "seed", value_name = "NAME")]
    pub scenario: String,
    /// Seed for the simulator's randomness.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub view: ViewArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// Every request is the cluster admin.
    Anonymous,
    /// Bearer tokens for an admin and a read-only viewer, one kubeconfig context each.
    Tokens,
}

#[derive(Debug, clap::Args)]
pub struct SimArgs {
    /// Address to serve on (loopback, a free port by default).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Where to write the kubeconfig (default: a file in the temporary directory).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// The built-in scenario to start with: seed (the seed platforms), minimal or empty.
    #[arg(long, default_value = "seed", value_name = "NAME")]
    pub scenario: String,
    /// Kubernetes YAML files or folders to apply at start (repeatable).
    #[arg(long = "manifests", value_name = "PATH")]
    pub manifests: Vec<PathBuf>,
    /// How clients authenticate.
    #[arg(long, value_enum, default_value_t = AuthArg::Anonymous)]
    pub auth: AuthArg,
    /// Seed for the simulator's randomness, so that runs repeat.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Changes kept for watches to resume from; older ones get 410 Gone.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub watch_window: usize,
    /// Adds synthetic Deployments and nodes so that about N more pods run.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub pods: usize,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only records since this long ago (30m, 1h, 2d) or this RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only the records of this namespace (default: every namespace, and
    /// cluster-scoped objects).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Print the records as JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The audit log to read (default: audit.jsonl in the XDG data folder).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every flag a subcommand shows is one it acts on: the console's
    /// look, and a namespace where none applies, are not offered.
    #[test]
    fn subcommands_offer_only_their_own_flags() {
        let cli = Cli::command();
        let flags = |path: &[&str]| -> Vec<String> {
            let mut cmd = &cli;
            for p in path {
                cmd = cmd.find_subcommand(p).unwrap();
            }
            cmd.get_arguments()
                .filter_map(|a| a.get_long().map(str::to_string))
                .collect()
        };
        for path in [
            &["chaos", "pod-kill"][..],
            &["backup", "list"],
            &["backup", "run"],
            &["runbook", "run"],
            &["runbook", "check"],
            &["runbook", "list"],
            &["audit"],
            &["sim"],
            &["drain"],
            &["cordon"],
            &["uncordon"],
        ] {
            let f = flags(path);
            for console_only in ["theme", "keymap", "all-namespaces"] {
                let allowed = console_only == "all-namespaces" && path == ["backup", "list"];
                assert_eq!(
                    f.contains(&console_only.to_string()),
                    allowed,
                    "{path:?}: {f:?}"
                );
            }
        }
        for path in [
            &["runbook", "check"][..],
            &["runbook", "list"],
            &["audit"],
            &["sim"],
        ] {
            let f = flags(path);
            for cluster in ["kubeconfig", "context", "readonly", "prometheus"] {
                assert!(!f.contains(&cluster.to_string()), "{path:?}: {f:?}");
            }
        }
        assert!(flags(&["backup", "list"]).contains(&"namespace".to_string()));
        assert!(!flags(&["backup", "list"]).contains(&"readonly".to_string()));
        assert!(flags(&["demo"]).contains(&"theme".to_string()));
        assert!(!flags(&["demo"]).contains(&"context".to_string()));
    }

    #[test]
    fn console_flags_do_not_reach_a_subcommand() {
        assert!(Cli::try_parse_from(["kubedeck", "--theme", "light", "backup", "list"]).is_err());
        assert!(Cli::try_parse_from(["kubedeck", "backup", "list", "--theme", "light"]).is_err());
        let cli = Cli::try_parse_from(["kubedeck", "-n", "shop", "--readonly"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.console.view.namespace.as_deref(), Some("shop"));
    }
}
