//! `kubedeck chaos pod-kill`: the recovery test from the command line. It
//! prints the plan, asks for confirmation (or takes `--yes`), prints the
//! timeline as it happens, saves the report and fails when the test fails.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};

use crate::cli::ConsoleArgs;
use kubedeck_core::actions::{AuditLog, Executor, WorkloadKind, WorkloadRef, kubeconfig_user};
use kubedeck_core::config::{Config, Paths};
use kubedeck_core::connect::{connect, read_kubeconfig};
use kubedeck_core::ops::recovery::{self, KillMode, Runner, TestSpec};
use kubedeck_core::ops::timeline::Verdict;
use kubedeck_core::ops::{report, service};
use kubedeck_kube::duration;

#[derive(Debug, clap::Subcommand)]
pub enum ChaosCommand {
    /// Kill pods of a Deployment or StatefulSet and measure the recovery
    /// from the watch streams; exits non-zero when the test fails.
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
    /// The Service must keep at least this many Ready endpoints.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub min_endpoints: u32,
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

/// A client, the user's config and an executor for the chosen context.
pub(crate) struct Session {
    pub client: kube::Client,
    pub context: String,
    pub config: Config,
    pub executor: Executor,
}

impl Session {
    pub(crate) async fn open(console: &ConsoleArgs) -> anyhow::Result<Session> {
        let kubeconfig = read_kubeconfig()
            .await
            .context("cannot read the kubeconfig (KUBECONFIG, or ~/.kube/config)")?;
        let user = kubeconfig_user(&kubeconfig, console.context.as_deref());
        let (context, client) = connect(kubeconfig, console.context.as_deref()).await?;
        let paths = Paths::discover();
        let config = match &paths {
            Some(p) => {
                let (config, error) = Config::load(&p.config_file());
                if let Some(e) = error {
                    eprintln!("kubedeck: {e}");
                }
                config
            }
            None => Config::default(),
        };
        let audit = AuditLog::discover()
            .ok_or_else(|| anyhow!("no home directory: cannot find the audit log"))?;
        let readonly = console.readonly || config.readonly_for(&context);
        let executor = Executor::new(client.clone(), &context, &user, readonly, audit);
        Ok(Session {
            client,
            context,
            config,
            executor,
        })
    }

    /// `-n`, else the kubeconfig context's namespace.
    pub(crate) fn namespace(&self, console: &ConsoleArgs) -> String {
        console
            .namespace
            .clone()
            .unwrap_or_else(|| self.client.default_namespace().to_string())
    }

    /// Refuses early, with the reason, in read-only mode, and audits the
    /// refusal as the executor does its own.
    pub(crate) async fn check_writable(
        &self,
        namespace: &str,
        object: &str,
        action: &str,
    ) -> anyhow::Result<()> {
        if self.executor.readonly {
            if let Some(problem) = self
                .executor
                .record_readonly_refusal(namespace, object, action)
                .await
            {
                tracing::warn!("{problem}");
            }
            bail!(
                "refused: context {} is read-only, so nothing was changed",
                self.context
            );
        }
        Ok(())
    }
}

/// Asks the operator to confirm on the terminal. In a protected context
/// the object's name must be typed (or given with `--confirm-name`);
/// without a terminal, only `--yes` confirms. Returns the typed name.
pub(crate) fn confirm(
    session: &Session,
    object_name: &str,
    question: &str,
    yes: bool,
    confirm_name: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let protected = session.config.is_protected(&session.context);
    if let Some(name) = confirm_name {
        if name != object_name {
            bail!("--confirm-name {name:?} does not match {object_name:?}; nothing was done");
        }
        return Ok(Some(name.to_string()));
    }
    if yes && !protected {
        return Ok(None);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        if protected {
            bail!(
                "context {} is protected: pass --confirm-name {object_name} to confirm without a terminal; nothing was done",
                session.context
            );
        }
        bail!("refusing to run without confirmation: stdin is not a terminal; pass --yes");
    }
    let prompt = if protected {
        format!(
            "Context {} is protected. Type {object_name:?} to {question}: ",
            session.context
        )
    } else {
        format!("{question}? [y/N] ")
    };
    eprint!("{prompt}");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    let answer = answer.trim();
    if protected {
        if answer != object_name {
            bail!("typed {answer:?}, but confirming needs {object_name:?}; nothing was done");
        }
        Ok(Some(answer.to_string()))
    } else if matches!(answer, "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(None)
    } else {
        bail!("not confirmed; nothing was done")
    }
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

pub async fn run(command: ChaosCommand, console: ConsoleArgs) -> anyhow::Result<()> {
    match command {
        ChaosCommand::PodKill(args) => pod_kill(args, console).await,
    }
}

async fn pod_kill(args: PodKillArgs, console: ConsoleArgs) -> anyhow::Result<()> {
    let session = Session::open(&console).await?;
    let namespace = session.namespace(&console);
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
        ..TestSpec::new(workload.clone())
    };
    session
        .check_writable(
            &workload.namespace,
            &workload_object(&workload),
            "recovery-test",
        )
        .await?;
    let target = recovery::inspect(&session.client, &workload).await?;
    if target.pods.is_empty() {
        bail!("{} has no running pod to kill", target.object());
    }
    println!("Pod-kill recovery test on context {}", session.context);
    for line in target.plan_lines(&spec) {
        println!("  {line}");
    }
    confirm(
        &session,
        &workload.name,
        "start the test",
        args.yes,
        args.confirm_name.as_deref(),
    )?;
    let runner = Runner {
        client: &session.client,
        executor: &session.executor,
        config: &session.config,
    };
    let mut print = |e: &kubedeck_core::ops::timeline::TimelineEvent| {
        println!("{}", e.line());
    };
    let mut report = runner.run(&spec, &target, &mut print).await?;
    println!();
    let prometheus = session
        .config
        .prometheus_for(&session.context, console.prometheus.as_deref());
    let queries = &session.config.metrics.queries;
    if let Some(line) = service::attach(&mut report, prometheus.as_ref(), queries, &workload).await
    {
        println!("{line}");
    }
    let with_ep = report.with_endpoints();
    for k in &report.kills {
        let recovery = k
            .recovery(with_ep)
            .map_or_else(|| "not recovered".to_string(), duration::human);
        println!(
            "#{} {} → {}: {recovery}",
            k.iteration,
            k.pod,
            k.replacement.as_deref().unwrap_or("no replacement")
        );
    }
    println!(
        "Ready endpoints: {} at start, minimum {}, {} at zero",
        report.endpoints.initial,
        report.endpoints.minimum,
        duration::human(Duration::from_millis(report.endpoints.time_at_zero_ms))
    );
    let saved = report::save(&report, args.report.as_deref());
    match &saved {
        Ok((md, json)) => println!("Report: {} and {}", md.display(), json.display()),
        Err(e) => eprintln!("kubedeck: the report was not saved: {e:#}"),
    }
    match report.verdict {
        Verdict::Pass => {
            println!(
                "PASS: every pod recovered within {}",
                duration::human(spec.slo)
            );
            saved.map(|_| ())
        }
        Verdict::Fail => {
            println!("FAIL");
            for r in &report.reasons {
                println!("  {r}");
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
