//! `kubedeck drain`, `cordon` and `uncordon`: a node's actions without the
//! console, named and flagged as kubectl's, through the same plan,
//! confirmation, executor and audit log as the console's. A drain
//! prints its plan (the pods it evicts, the budgets that will hold it up,
//! the Services that lose endpoints), asks (or takes `--yes`), prints each
//! step as it happens, and exits 1 unless every pod it evicts is gone.

use std::time::Duration;

use anyhow::bail;

use super::session::{Session, confirm};
use crate::cli::ClusterArgs;
use kubedeck_core::actions::drain::DEFAULT_TIMEOUT;
use kubedeck_core::actions::{Command, Confirmation, DrainEvent, DrainOptions, DrainUpdate, plan};
use kubedeck_kube::duration;

#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The node's name.
    #[arg(value_name = "NODE")]
    pub node: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Refuse the change (the refusal is audited), as a read-only context does.
    #[arg(long)]
    pub readonly: bool,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// In a protected context, the node's name, which confirms without a prompt.
    #[arg(long, value_name = "NAME")]
    pub confirm_name: Option<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

#[derive(Debug, clap::Args)]
pub struct DrainArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Leave DaemonSet pods on the node (without it, they refuse the drain).
    #[arg(long)]
    pub ignore_daemonsets: bool,
    /// Evict pods with emptyDir volumes too; their data is deleted.
    #[arg(long)]
    pub delete_emptydir_data: bool,
    /// Evict pods that declare no controller too; nothing replaces them.
    #[arg(long)]
    pub force: bool,
    /// How long the whole drain may take (0s: as long as it takes).
    #[arg(long, value_name = "D", value_parser = parse_duration,
          default_value = "5m")]
    pub timeout: Duration,
}

/// `kubedeck cordon NODE`.
pub async fn cordon(args: NodeArgs) -> anyhow::Result<()> {
    let node = args.node.clone();
    simple(args, Command::Cordon { node }).await
}

/// `kubedeck uncordon NODE`.
pub async fn uncordon(args: NodeArgs) -> anyhow::Result<()> {
    let node = args.node.clone();
    simple(args, Command::Uncordon { node }).await
}

/// Opens the session, refuses early in read-only mode (audited), plans the
/// command and prints what the console's dialog shows.
async fn prepare(args: &NodeArgs, cmd: Command) -> anyhow::Result<(Session, Confirmation)> {
    cmd.validate().map_err(anyhow::Error::msg)?;
    let session = Session::open(&args.cluster, args.readonly).await?;
    session
        .check_writable("", &cmd.object(), cmd.action())
        .await?;
    let confirmation = plan(&session.client, &session.context, &session.config, cmd).await?;
    say!("{} on context {}", confirmation.summary(), session.context);
    say!("  {}", confirmation.kubectl());
    for line in confirmation.consequences() {
        say!("  • {line}");
    }
    Ok((session, confirmation))
}

/// Cordon and uncordon: one confirmed command through the executor.
async fn simple(args: NodeArgs, cmd: Command) -> anyhow::Result<()> {
    let (session, confirmation) = prepare(&args, cmd).await?;
    let question = confirmation.summary().to_lowercase();
    let typed = confirm(
        &session,
        &args.node,
        &question,
        args.yes,
        args.confirm_name.as_deref(),
    )?;
    let confirmed = confirmation.confirm(typed.as_deref())?;
    let applied = session.executor.execute(confirmed).await?;
    say!("{}", applied.message);
    if let Some(problem) = applied.audit_error {
        say_err!("kubedeck: {problem}");
    }
    Ok(())
}

/// `kubedeck drain NODE`.
pub async fn drain(args: DrainArgs) -> anyhow::Result<()> {
    let options = DrainOptions {
        ignore_daemonsets: args.ignore_daemonsets,
        delete_emptydir_data: args.delete_emptydir_data,
        force: args.force,
        // Whole seconds, as the command line shows them; a fraction rounds up.
        timeout_seconds: args.timeout.as_secs() + u64::from(args.timeout.subsec_nanos() > 0),
    };
    let node = args.node.node.clone();
    let cmd = Command::Drain {
        node: node.clone(),
        options,
    };
    let (session, confirmation) = prepare(&args.node, cmd).await?;
    let typed = confirm(
        &session,
        &node,
        &format!("drain node/{node}"),
        args.node.yes,
        args.node.confirm_name.as_deref(),
    )?;
    let confirmed = confirmation.confirm(typed.as_deref())?;
    if options.timeout().is_none() {
        say!("no timeout: the drain waits as long as it takes (ctrl-c stops it)");
    } else if options.timeout() != Some(DEFAULT_TIMEOUT) {
        say!("the drain gives up after {}", duration::human(args.timeout));
    }
    let mut print = |u: &DrainUpdate| {
        // Each retry of a refusal already shown moves only the clock.
        if matches!(u.event, DrainEvent::StillBlocked { .. }) {
            return;
        }
        say!(
            "{:>9}  {}",
            format!("+{}", duration::human(u.elapsed)),
            u.event.line(&node)
        );
    };
    // Ctrl-C stops the drain where it is, audited; the node stays cordoned.
    // Registered now, so that one pressed as the first line prints is caught.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let stop = async move {
        interrupt.recv().await;
    };
    let report = session.executor.drain(confirmed, &mut print, stop).await?;
    if report.is_complete() {
        say!("{}", report.summary());
        Ok(())
    } else {
        bail!("{}", report.summary())
    }
}
