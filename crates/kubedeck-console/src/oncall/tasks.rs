//! The background work behind the ops panes, started by the runtime from
//! `OpsEffect`s: inspecting and running a recovery test, listing runbooks,
//! and one task per runbook run that owns the `Run` and drives
//! `Run::advance` as the pane asks. They report through a `Reply`, never
//! touching the console's state.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kube::Client;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::recovery_view::{RecoveryMsg, RecoverySpec, Summary};
use super::runbook_view::{
    Listed, RunbookCmd, RunbookInfo, RunbookMsg, ShowTarget, Snapshot, StepInfo,
};
use super::{OpsEffect, OpsMsg, RecoveryPlan};
use crate::update::Msg;
use kubedeck_core::actions::{Executor, WorkloadRef};
use kubedeck_core::config::{Config, Paths};
use kubedeck_core::ops::recovery::{self, Runner, TestSpec};
use kubedeck_core::ops::report;
use kubedeck_core::runbooks::act::RecoveryNews;
use kubedeck_core::runbooks::library::{self, Origin};
use kubedeck_core::runbooks::model::StepKind;
use kubedeck_core::runbooks::{Env, Progress, Run, Status, record, validate};

/// How a task reports back to the runtime.
pub(crate) type Reply = Arc<dyn Fn(Msg) + Send + Sync>;

/// What the tasks act with: the current context's client, settings and
/// executor (read-only mode, audit log).
#[derive(Clone)]
pub(crate) struct Deps {
    pub client: Client,
    pub context: String,
    pub config: Arc<Config>,
    pub executor: Arc<Executor>,
    /// The Prometheus the console draws from, if any: a recovery test reads
    /// the service's 5xx ratio and p95 latency from it.
    pub prometheus: Option<kubedeck_core::metrics::PrometheusConfig>,
}

impl Deps {
    /// An executor of our own, with the same context, user, mode and log.
    pub(super) fn executor(&self) -> Executor {
        let e = &self.executor;
        Executor::new(
            self.client.clone(),
            &e.context,
            &e.user,
            e.readonly,
            e.audit.clone(),
        )
        .blocked_by(self.config.refusal())
    }
}

/// The runbook runs in progress, by id.
#[derive(Default)]
pub(crate) struct OpsTasks {
    runbooks: HashMap<u64, UnboundedSender<RunbookCmd>>,
    /// The port-forwards, which live as long as the console.
    pf: super::pf_tasks::PfTasks,
}

impl OpsTasks {
    pub(crate) fn handle(&mut self, effect: OpsEffect, deps: &Deps, send: Reply) {
        self.runbooks.retain(|_, tx| !tx.is_closed());
        match effect {
            OpsEffect::InspectRecovery { id, spec } => {
                let deps = deps.clone();
                tokio::spawn(async move {
                    let result = plan_recovery(&deps, &spec).await;
                    send(Msg::Ops(OpsMsg::RecoveryPlanned { id, result }));
                });
            }
            OpsEffect::StartRecovery { spec } => {
                let deps = deps.clone();
                tokio::spawn(async move { run_recovery(deps, spec, send).await });
            }
            OpsEffect::ListRunbooks => {
                let user_dir = Paths::discover().map(|p| p.runbooks_dir());
                let listed = library::list(user_dir.as_deref())
                    .into_iter()
                    .map(|l| Listed {
                        source: match l.origin {
                            Origin::Shipped => "shipped".into(),
                            Origin::User(_) | Origin::File(_) => "user".into(),
                        },
                        title: l.title.unwrap_or_else(|e| format!("(unreadable: {e})")),
                        name: l.name,
                    })
                    .collect();
                send(Msg::Ops(OpsMsg::Runbooks(listed)));
            }
            OpsEffect::ReadRunbookVars {
                id,
                name,
                namespace,
            } => {
                let result = runbook_vars(&name, namespace);
                send(Msg::Ops(OpsMsg::RunbookVars { id, name, result }));
            }
            OpsEffect::OpenRunbook { id, name, vars } => {
                let (tx, rx) = mpsc::unbounded_channel();
                match open_runbook(deps, &name, &vars, id, send.clone()) {
                    Ok((info, run, env)) => {
                        send(Msg::Ops(OpsMsg::RunbookOpened {
                            id,
                            result: Ok(info),
                        }));
                        self.runbooks.insert(id, tx);
                        tokio::spawn(drive(id, run, env, rx, send));
                    }
                    Err(e) => send(Msg::Ops(OpsMsg::RunbookOpened { id, result: Err(e) })),
                }
            }
            OpsEffect::Runbook { id, cmd } => {
                if let Some(tx) = self.runbooks.get(&id) {
                    let _ = tx.send(cmd);
                }
            }
            OpsEffect::InspectPortForward { id, target } => self.pf.inspect(id, target, deps, send),
            OpsEffect::StartPortForward { target, spec } => self.pf.start(target, spec, deps, send),
            OpsEffect::StopPortForward { id } => self.pf.stop(id, send),
        }
    }
}

fn object(w: &WorkloadRef) -> String {
    format!("{}/{}", w.kind.singular(), w.name)
}

fn test_spec(spec: &RecoverySpec) -> TestSpec {
    TestSpec {
        mode: spec.mode,
        force: spec.force,
        iterations: spec.iterations,
        interval: spec.interval,
        slo: spec.slo,
        min_endpoints: spec.min_endpoints,
        ..TestSpec::new(spec.target.clone())
    }
}

async fn plan_recovery(deps: &Deps, spec: &RecoverySpec) -> Result<RecoveryPlan, String> {
    let target = recovery::inspect(&deps.client, &spec.target)
        .await
        .map_err(|e| format!("{e:#}"))?;
    if target.pods.is_empty() {
        return Err(format!("{} has no running pod to kill", target.object()));
    }
    Ok(RecoveryPlan {
        lines: target.plan_lines(&test_spec(spec)),
        context: deps.context.clone(),
        protected: deps.config.is_protected(&deps.context),
    })
}

/// Runs a confirmed test as the headless command does: refused and audited
/// in read-only mode, each kill through the executor, the report saved.
async fn run_recovery(deps: Deps, spec: RecoverySpec, send: Reply) {
    let news = |m: RecoveryMsg| send(Msg::Ops(OpsMsg::Recovery(m)));
    let executor = deps.executor();
    if executor.readonly {
        if let Some(problem) = executor
            .record_readonly_refusal(
                &spec.target.namespace,
                &object(&spec.target),
                "recovery-test",
            )
            .await
        {
            tracing::warn!("{problem}");
        }
        news(RecoveryMsg::Failed(format!(
            "refused: context {} is read-only, so nothing was changed",
            executor.context
        )));
        return;
    }
    let test = test_spec(&spec);
    let target = match recovery::inspect(&deps.client, &spec.target).await {
        Ok(t) => t,
        Err(e) => return news(RecoveryMsg::Failed(format!("{e:#}"))),
    };
    news(RecoveryMsg::Started {
        target: spec.target.clone(),
        plan: target.plan_lines(&test),
        slo: test.slo,
        min_endpoints: test.min_endpoints,
    });
    tracing::info!("recovery test of {} started", target.object());
    let runner = Runner {
        client: &deps.client,
        executor: &executor,
        config: &deps.config,
    };
    let mut on_event =
        |e: &kubedeck_core::ops::timeline::TimelineEvent| news(RecoveryMsg::Event(e.clone()));
    match runner.run(&test, &target, &mut on_event).await {
        Ok(mut report) => {
            let queries = &deps.config.metrics.queries;
            kubedeck_core::ops::service::attach(
                &mut report,
                deps.prometheus.as_ref(),
                queries,
                &test.target,
            )
            .await;
            let saved = report::save(&report, None)
                .map(|(md, _)| md.display().to_string())
                .map_err(|e| format!("{e:#}"));
            tracing::info!("recovery test of {}: {:?}", target.object(), report.verdict);
            news(RecoveryMsg::Finished(Box::new(Summary::of(&report, saved))));
        }
        Err(e) => news(RecoveryMsg::Failed(format!("{e:#}"))),
    }
}

/// Finds and checks a runbook; errors name its file and the first problem.
fn read_runbook(name: &str) -> Result<validate::Runbook, String> {
    let user_dir = Paths::discover().map(|p| p.runbooks_dir());
    let source = library::find(name, user_dir.as_deref())?;
    validate::parse(&source.name, &source.label, &source.text)
        .map_err(|errors| problems(&source.label, &errors))
}

fn problems(label: &str, errors: &[validate::Diagnostic]) -> String {
    let first = errors.first().map(ToString::to_string).unwrap_or_default();
    format!("{label}: {} errors, the first: {first}", errors.len())
}

/// A runbook's variables and their defaults; `namespace`, when the console
/// has one, stands for that variable's default.
fn runbook_vars(name: &str, namespace: Option<String>) -> Result<Vec<(String, String)>, String> {
    let mut vars = read_runbook(name)?.variables;
    if let (Some(ns), Some(v)) = (namespace, vars.get_mut("namespace")) {
        *v = ns;
    }
    Ok(vars.into_iter().collect())
}

/// Reads and resolves a runbook with `vars`, and the environment its run
/// acts in.
fn open_runbook(
    deps: &Deps,
    name: &str,
    vars: &BTreeMap<String, String>,
    id: u64,
    send: Reply,
) -> Result<(RunbookInfo, Run, Env), String> {
    let runbook = read_runbook(name)?;
    let label = runbook.file.clone();
    let plan = runbook
        .resolve(vars)
        .map_err(|errors| problems(&label, &errors))?;
    let executor = deps.executor();
    let info = RunbookInfo {
        name: plan.name.clone(),
        title: plan.title.clone(),
        description: plan.description.clone(),
        vars: plan.vars.clone(),
        steps: plan
            .steps
            .iter()
            .map(|s| StepInfo {
                id: s.id.clone(),
                name: s.name.clone(),
                kind: s.kind.word().to_string(),
                show: match &s.kind {
                    StepKind::Show(show) => Some(ShowTarget {
                        view: show.view.clone(),
                        namespace: show.namespace.clone(),
                        filter: show.filter.clone(),
                    }),
                    _ => None,
                },
            })
            .collect(),
        context: executor.context.clone(),
        who: executor.user.clone(),
    };
    let run = Run::new(plan, &executor.user);
    let live_send = send.clone();
    let env = Env {
        client: deps.client.clone(),
        prometheus: deps.prometheus.as_ref().map(|p| p.url.clone()),
        config: (*deps.config).clone(),
        executor,
        live: Some(Box::new(move |line: &str| {
            live_send(Msg::Ops(OpsMsg::Runbook {
                id,
                msg: RunbookMsg::Live(line.to_string()),
            }));
        })),
        recovery: Some(Box::new(move |news: RecoveryNews<'_>| {
            let msg = match news {
                RecoveryNews::Started { spec, plan } => RecoveryMsg::Started {
                    target: spec.target.clone(),
                    plan,
                    slo: spec.slo,
                    min_endpoints: spec.min_endpoints,
                },
                RecoveryNews::Event(e) => RecoveryMsg::Event(e.clone()),
                RecoveryNews::Finished { report, saved } => RecoveryMsg::Finished(Box::new(
                    Summary::of(report, saved.map(|p| p.display().to_string())),
                )),
            };
            send(Msg::Ops(OpsMsg::Runbook {
                id,
                msg: RunbookMsg::Recovery(msg),
            }));
        })),
        confirm_actions: true,
    };
    Ok((info, run, env))
}

fn snapshot(run: &Run, stepped: Option<(usize, Status)>, progress: Option<&Progress>) -> Snapshot {
    Snapshot {
        states: run.states.clone(),
        current: run.current(),
        stepped,
        waiting: match progress {
            Some(Progress::Waiting(p)) => Some(p.clone()),
            _ => None,
        },
        outcome: run.outcome().cloned(),
        busy: false,
        inconclusive: (0..run.states.len())
            .filter(|i| run.is_inconclusive(*i))
            .collect(),
    }
}

/// Owns one run: each command advances it, and every change goes back to
/// the console as a snapshot. The incident log and audit record are
/// written when it ends, as the headless command writes them.
async fn drive(
    id: u64,
    mut run: Run,
    env: Env,
    mut rx: UnboundedReceiver<RunbookCmd>,
    send: Reply,
) {
    let report = |msg: RunbookMsg| send(Msg::Ops(OpsMsg::Runbook { id, msg }));
    // An answer to a gate that `ToGate` reached goes on to the next gate.
    let mut to_gate = false;
    while let Some(cmd) = rx.recv().await {
        let mut input = None;
        match cmd {
            RunbookCmd::Step => to_gate = false,
            RunbookCmd::ToGate => to_gate = true,
            RunbookCmd::Answer(a) => input = Some(a),
        }
        while let Some(i) = run.current() {
            let mut running = snapshot(&run, None, None);
            if let Some(s) = running.states.get_mut(i) {
                s.status = Status::Running;
            }
            running.busy = true;
            report(RunbookMsg::Snapshot(running));
            let progress = run.advance(&env, input.take()).await;
            let stepped = match &progress {
                Progress::Stepped { index, status } => Some((*index, *status)),
                _ => None,
            };
            report(RunbookMsg::Snapshot(snapshot(
                &run,
                stepped,
                Some(&progress),
            )));
            if !to_gate || !matches!(progress, Progress::Stepped { .. }) {
                break;
            }
        }
        if run.current().is_none() {
            finish(&run, &env, &report);
            break;
        }
    }
}

fn finish(run: &Run, env: &Env, report: &dyn Fn(RunbookMsg)) {
    let context = &env.executor.context;
    let saved = match Paths::discover() {
        Some(p) => record::save(run, context, &p.data_dir.join("runs"))
            .map(|path| path.display().to_string())
            .map_err(|e| e.to_string()),
        None => Err("no home directory".to_string()),
    };
    if let Err(e) = record::append_audit(run, context, &env.executor.audit) {
        tracing::warn!(
            "could not write the audit log {}: {e}",
            env.executor.audit.path().display()
        );
    }
    report(RunbookMsg::Saved(saved));
}
