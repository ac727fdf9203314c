//! `kubedeck port-forward TYPE/NAME [LOCAL:]REMOTE...`: kubectl's
//! port-forward through kubedeck's read-only, RBAC and audit checks. It
//! prints "Forwarding from 127.0.0.1:LOCAL -> REMOTE" per port, a line per
//! connection, and which pod it moved to when the pod went away; it runs
//! until Ctrl-C and then exits 0.

use anyhow::bail;
use kubedeck_core::actions::Rbac;
use kubedeck_core::portforward::{self, Event, Forward, PortSpec, Target};

use super::session::Session;
use crate::cli::ClusterArgs;

#[derive(Debug, clap::Args)]
pub struct PortForwardArgs {
    /// pod/NAME, svc/NAME, deploy/NAME, sts/NAME, ds/NAME or a pod's name.
    #[arg(value_name = "TYPE/NAME")]
    pub target: String,
    /// LOCAL:REMOTE, or REMOTE (or :REMOTE) for a free local port. REMOTE
    /// is a container port (number or name), or for a Service one of its
    /// ports, mapped to the pod's target port.
    #[arg(value_name = "[LOCAL:]REMOTE", required = true)]
    pub ports: Vec<String>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Refuse (the refusal is audited), as a read-only context does.
    #[arg(long)]
    pub readonly: bool,
}

pub async fn run(args: PortForwardArgs) -> anyhow::Result<()> {
    let specs = args
        .ports
        .iter()
        .map(|p| PortSpec::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let session = Session::open(&args.cluster, args.readonly).await?;
    let namespace = session.namespace(args.namespace.as_deref());
    let target = Target::parse(&args.target, &namespace).map_err(anyhow::Error::msg)?;
    let rbac = Rbac::new(session.client.clone(), Rbac::DEFAULT_TTL);
    if let Err(refusal) = portforward::authorize(&session.executor, &rbac, &target).await {
        bail!(refusal);
    }
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let mut forwards: Vec<Forward> = Vec::with_capacity(specs.len());
    for spec in &specs {
        let forward = Forward::start(
            session.client.clone(),
            target.clone(),
            spec,
            Some(tx.clone()),
        )
        .await
        .map_err(anyhow::Error::msg)?;
        say!("Forwarding from {}", forward.describe());
        if let Some(problem) = portforward::audit_started(&session.executor, &forward).await {
            say_err!("kubedeck: {problem}");
        }
        forwards.push(forward);
    }
    drop(tx);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            event = events.recv() => match event {
                Some(Event::Connection { local }) => say!("Handling connection for {local}"),
                Some(Event::Switched { from, to }) => {
                    say!("Pod {from} is gone; forwarding to pod {to}");
                }
                Some(Event::Lost { reason }) => say_err!("kubedeck: {reason}"),
                Some(Event::Error { message }) => say_err!("kubedeck: {message}"),
                None => return Ok(()),
            },
        }
    }
}
