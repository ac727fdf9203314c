//! `kubedeck exec POD [-c C] [-n NS] [-i] [-t] -- CMD...`: runs a command in
//! a container as `kubectl exec` does, and exits with its exit code. With
//! `-t` the remote terminal owns the local one (that is the point of a
//! shell); without, output that reaches a terminal is printed safely.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use futures::StreamExt as _;
use kubedeck_core::exec::{self, Ended, Mode, SafeLines, Target};
use tokio::signal::unix::{SignalKind, signal};

use super::session::Session;
use crate::cli::ClusterArgs;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The pod to run in.
    #[arg(value_name = "POD")]
    pub pod: String,
    /// The container (default: the pod's only one; required when it has several).
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// The pod's namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Pass stdin to the command.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Give the command a terminal (this one, in raw mode).
    #[arg(short = 't', long)]
    pub tty: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Refuse to run (the refusal is audited), as a read-only context does.
    #[arg(long)]
    pub readonly: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// The remote command exited non-zero: kubedeck exits with its code.
#[derive(Debug)]
pub struct RemoteExit(pub i32);

impl std::fmt::Display for RemoteExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "command terminated with exit code {}", self.0)
    }
}

impl std::error::Error for RemoteExit {}

/// Cooked mode again however the session ends.
struct RawGuard;

impl Drop for RawGuard {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

pub async fn run(args: ExecArgs) -> anyhow::Result<()> {
    let session = Session::open(&args.cluster, args.readonly).await?;
    let ns = session.namespace(args.namespace.as_deref());
    let target = Target::new(&ns, &args.pod, args.container.as_deref());
    let local_tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    // As kubectl: a terminal is only given when there is one to give.
    let tty = args.tty && local_tty;
    if args.tty && !tty {
        eprintln!("kubedeck: unable to use a TTY: input or output is not a terminal");
    }
    let mode = Mode {
        stdin: args.stdin,
        tty,
    };
    let process = exec::start(&session.executor, &target, &args.command, mode).await?;
    let input = args.stdin.then(tokio::io::stdin);
    let ended = if tty {
        crossterm::terminal::enable_raw_mode().context("cannot set the terminal to raw mode")?;
        let _raw = RawGuard;
        let mut winch = signal(SignalKind::window_change()).context("cannot watch resizes")?;
        let first = crossterm::terminal::size().ok();
        let resizes = futures::stream::iter(first).chain(
            futures::stream::poll_fn(move |cx| winch.poll_recv(cx))
                .filter_map(|()| async { crossterm::terminal::size().ok() }),
        );
        let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
        exec::pump(process, input, &mut out, &mut err, Box::pin(resizes)).await
    } else {
        let no_resizes = futures::stream::empty();
        if std::io::stdout().is_terminal() {
            // Cluster output must not drive the operator's terminal.
            let mut out = SafeLines::new(std::io::stdout());
            let mut err = SafeLines::new(std::io::stderr());
            let ended = exec::pump(process, input, &mut out, &mut err, no_resizes).await;
            let _ = out.finish();
            let _ = err.finish();
            ended
        } else {
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            exec::pump(process, input, &mut out, &mut err, no_resizes).await
        }
    };
    match ended {
        Ended::Exited(0) => Ok(()),
        Ended::Exited(code) => Err(RemoteExit(code).into()),
        other @ (Ended::Failed(_) | Ended::Lost(_)) => anyhow::bail!("{other}"),
    }
}
