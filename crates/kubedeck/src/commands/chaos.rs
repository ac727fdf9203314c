//! `kubedeck chaos pod-kill`: the recovery test from the command line. It
//! prints the plan, asks for confirmation (or takes `--yes`), prints the
//! timeline as it happens, saves the report and fails when the test fails.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail};

use super::OutcomeUnknown;
use super::session::{Session, confirm};
use crate::cli::ClusterArgs;
use kubedeck_core::actions::{ActionError, WorkloadKind, WorkloadRef};
use kubedeck_core::ops::recovery::{self, KillMode, Runner, TestSpec};
use kubedeck_core::ops::timeline::Verdict;
use kubedeck_core::ops::{report, service};
use kubedeck_kube::duration;

#[derive(Debug, clap::Subcommand)]
pub enum ChaosCommand {
    /// Kill pods of a Deployment or StatefulSet and measure the recovery
    /// from the watch streams. First the steady state must hold: every
    /// replica Ready, the Service at or above --min-endpoints, no rollout
    /// in progress. If it does not within 10s, nothing is killed and it
    /// exits 3. Exits 1 when the test fails, 5 when it cannot tell whether
    /// a pod was killed (the delete's answer was lost and the pod could not
    /// be read back).
    PodKill(PodKillArgs),
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

#[derive(Debug, clap::Args)]
pub struct PodKillArgs {
    /// deployment/NAME or statefulset/NAME.
    #[arg(value_name = "KIND/NAME")]
    pub target: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The workload's namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Refuse to kill (the refusal is audited), as a read-only context does.
    #[arg(long)]
    pub readonly: bool,
    /// The Prometheus to read the service's 5xx ratio and p95 latency from
    /// for the report (default: the context's `prometheus` in config.toml,
    /// else `[metrics.prometheus]`'s url); without one the report has the
    /// endpoint counts only.
    #[arg(long, value_name = "URL")]
    pub prometheus: Option<String>,
    /// Kill this many pods per iteration (default: one random pod).
    #[arg(long, value_name = "N", conflicts_with_all = ["percent", "all"],
          value_parser = clap::value_parser!(u32).range(1..))]
    pub count: Option<u32>,
    /// Kill this percentage of the pods per iteration (rounded up).
    #[arg(long, value_name = "P", conflicts_with = "all",
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub percent: Option<u32>,
    /// Kill every pod of the workload.
    #[arg(long)]
    pub all: bool,
    /// Delete with a grace period of 0 instead of the pod's own.
    #[arg(long)]
    pub force: bool,
    /// How many times to kill.
    #[arg(long, default_value_t = 1, value_name = "K",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub iterations: u32,
    /// The pause between one iteration's recovery and the next kill.
    #[arg(long, default_value = "10s", value_name = "D", value_parser = parse_duration)]
    pub interval: Duration,
    /// Each killed pod must be serving again within this (30s, 1m30s).
    #[arg(long, default_value = "30s", value_name = "D", value_parser = parse_duration)]
    pub slo: Duration,
    /// The Service must keep at least this many Ready endpoints, and have
    /// them before the first kill.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_endpoints: u32,
    /// Kill even when the steady state does not hold (some replica not
    /// Ready, fewer endpoints than --min-endpoints, a rollout in
    /// progress). The override is audited.
    #[arg(long)]
    pub skip_steady_state_check: bool,
    /// Stop the test when the Service has had no Ready endpoint this long.
    #[arg(long, default_value = "60s", value_name = "D", value_parser = parse_duration)]
    pub abort_after: Duration,
    /// How long to wait for one iteration's recovery.
    #[arg(long, default_value = "2m", value_name = "D", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Write the Markdown report here (and the JSON next to it) instead of
    /// the reports folder of the XDG data dir.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// In a protected context, the name that confirms without a prompt.
    #[arg(long, value_name = "NAME")]
    pub confirm_name: Option<String>,
}

/// `deployment/web` (also `deploy/web`, `sts/db`, `statefulsets.apps/db`).
pub fn parse_workload(text: &str, namespace: &str) -> anyhow::Result<WorkloadRef> {
    let (kind, name) = text
        .split_once('/')
        .ok_or_else(|| anyhow!("{text:?}: expected KIND/NAME, such as deployment/web"))?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "deployment" | "deployments" | "deploy" | "deployment.apps" | "deployments.apps" => {
            WorkloadKind::Deployment
        }
        "statefulset" | "statefulsets" | "sts" | "statefulset.apps" | "statefulsets.apps" => {
            WorkloadKind::StatefulSet
        }
        other => bail!("{other:?}: the recovery test targets a deployment or a statefulset"),
    };
    if name.is_empty() {
        bail!("{text:?}: the name is missing");
    }
    Ok(WorkloadRef {
        kind,
        namespace: namespace.to_string(),
        name: name.to_string(),
    })
}

pub async fn run(command: ChaosCommand) -> anyhow::Result<()> {
    match command {
        ChaosCommand::PodKill(args) => pod_kill(args).await,
    }
}

async fn pod_kill(args: PodKillArgs) -> anyhow::Result<()> {
    let session = Session::open(&args.cluster, args.readonly).await?;
    let namespace = session.namespace(args.namespace.as_deref());
    let workload = parse_workload(&args.target, &namespace)?;
    let mode = match (args.count, args.percent, args.all) {
        (Some(n), _, _) => KillMode::Count(n),
        (_, Some(p), _) => KillMode::Percent(p),
        (_, _, true) => KillMode::All,
        _ => KillMode::One,
    };
    let spec = TestSpec {
        mode,
        force: args.force,
        iterations: args.iterations,
        interval: args.interval,
        slo: args.slo,
        min_endpoints: args.min_endpoints,
        abort_after: args.abort_after,
        recovery_timeout: args.timeout,
        skip_steady_state_check: args.skip_steady_state_check,
        ..TestSpec::new(workload.clone())
    };
    session
        .check_writable(
            &workload.namespace,
            &workload_object(&workload),
            "recovery-test",
        )
        .await?;
    let target = session
        .reading(
            &format!("reading {}", workload_object(&workload)),
            recovery::inspect(&session.client, &workload),
        )
        .await?;
    if target.pods.is_empty() {
        bail!("{} has no running pod to kill", target.object());
    }
    say!("Pod-kill recovery test on context {}", session.context);
    for line in target.plan_lines(&spec) {
        say!("  {line}");
    }
    let runner = Runner {
        client: &session.client,
        executor: &session.executor,
        config: &session.config,
    };
    confirm(
        &session,
        &workload.name,
        "start the test",
        args.yes,
        args.confirm_name.as_deref(),
    )?;
    let mut print = |e: &kubedeck_core::ops::timeline::TimelineEvent| {
        say!("{}", e.line());
    };
    let mut report = runner.run(&spec, &target, &mut print).await?;
    say!();
    let prometheus = session
        .config
        .prometheus_for(&session.context, args.prometheus.as_deref());
    let queries = &session.config.metrics.queries;
    if let Some(line) = service::attach(&mut report, prometheus.as_ref(), queries, &workload).await
    {
        say!("{line}");
    }
    let with_ep = report.with_endpoints();
    for k in &report.kills {
        let recovery = k
            .recovery(with_ep)
            .map_or_else(|| "not recovered".to_string(), duration::human);
        say!(
            "#{} {} → {}: {recovery}",
            k.iteration,
            k.pod,
            k.replacement.as_deref().unwrap_or("no replacement")
        );
    }
    say!(
        "Ready endpoints: {} at start, minimum {}, {} at zero",
        report.endpoints.initial,
        report.endpoints.minimum,
        duration::human(Duration::from_millis(report.endpoints.time_at_zero_ms))
    );
    let saved = report::save(&report, args.report.as_deref());
    match &saved {
        Ok((md, json)) => say!("Report: {} and {}", md.display(), json.display()),
        Err(e) => say_err!("kubedeck: the report was not saved: {e:#}"),
    }
    let unknown: Vec<String> = report
        .kills
        .iter()
        .filter_map(|k| {
            let e = k.error.as_deref()?;
            ActionError::is_outcome_unknown_text(e).then(|| format!("{}: {e}", k.pod))
        })
        .collect();
    if !unknown.is_empty() {
        // Whatever the verdict, what was killed is not known.
        return Err(OutcomeUnknown(format!(
            "the recovery test cannot tell whether it killed {}",
            unknown.join("; ")
        ))
        .into());
    }
    match report.verdict {
        Verdict::Pass => {
            say!(
                "PASS: every pod recovered within {}",
                duration::human(spec.slo)
            );
            saved.map(|_| ())
        }
        Verdict::Fail => {
            say!("FAIL");
            for r in &report.reasons {
                say!("  {r}");
            }
            bail!("the recovery test failed: {}", report.reasons.join("; "))
        }
    }
}

/// `deployment/web`, as the audit log names objects.
fn workload_object(w: &kubedeck_core::actions::command::WorkloadRef) -> String {
    format!("{}/{}", w.kind.singular(), w.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_named_as_kubectl_names_them() {
        let w = parse_workload("deploy/web", "demo").unwrap();
        assert_eq!(w, WorkloadRef::deployment("demo", "web"));
        let s = parse_workload("statefulsets.apps/db", "data").unwrap();
        assert_eq!(s, WorkloadRef::statefulset("data", "db"));
        assert!(
            parse_workload("web", "demo")
                .unwrap_err()
                .to_string()
                .contains("KIND/NAME")
        );
        assert!(parse_workload("daemonset/x", "demo").is_err());
        assert!(parse_workload("deployment/", "demo").is_err());
    }
}
