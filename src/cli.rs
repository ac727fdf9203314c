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
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a simulated Kubernetes cluster that kubectl and other clients can use.
    Sim(SimArgs),
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
    /// The built-in scenario to start with.
    #[arg(long, default_value = "minimal", value_name = "NAME")]
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
}
