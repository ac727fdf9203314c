//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kubedeck",
    version,
    about = "A terminal operations console for Kubernetes"
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
    /// Print the audit log of the actions taken (or refused) with kubedeck;
    /// `--namespace` keeps one namespace's records.
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
}

/// How the console connects and looks; used without a subcommand.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConsoleArgs {
    /// The kubeconfig file to use (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Show only this namespace.
    #[arg(short = 'n', long, global = true, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Show all namespaces (the default when no namespace is set).
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// Refuse every change to the cluster.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// A built-in theme (dark, light, high-contrast), a theme in the config folder, or a file.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// A built-in keymap (default, tmux-safe), a keymap in the config folder, or a file.
    #[arg(long, global = true, value_name = "NAME")]
    pub keymap: Option<String>,
    /// The Prometheus to draw sparklines from (default: the context's in
    /// config.toml, else metrics-server sampled from now on).
    #[arg(long, global = true, value_name = "URL")]
    pub prometheus: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The simulated cluster's scenario.
    #[arg(long, default_value = "seed", value_name = "NAME")]
    pub scenario: String,
    /// Seed for the simulator's randomness.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
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
    /// Print the records as JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The audit log to read (default: audit.jsonl in the XDG data folder).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}
