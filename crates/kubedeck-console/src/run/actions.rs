//! The action core of one context: planning reads through its client,
//! RBAC answers are cached, and only the executor changes anything. Each
//! call spawns its work and answers with a message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::apps::v1::ControllerRevision;
use kube::Client;
use kube::api::{Api, ListParams};
use tokio::sync::oneshot;

use super::Answers;
use crate::oncall::tasks::Deps;
use crate::update::Msg;
use kubedeck_core::actions::{
    AuditLog, Command as ActionCommand, Confirmed, DrainEvent, DrainUpdate, Executor, Rbac,
    WorkloadRef, plan,
};
use kubedeck_core::config::Config;
use kubedeck_core::metrics::PrometheusConfig;

#[derive(Clone)]
pub(super) struct Actions {
    /// This context's client, settings, executor and Prometheus, which the
    /// recovery test and runbook tasks act with too.
    deps: Deps,
    rbac: Arc<Rbac>,
    /// The drains running, by node: sending stops one.
    drains: Arc<Mutex<HashMap<String, oneshot::Sender<()>>>>,
}

impl Actions {
    pub(super) fn new(
        client: &Client,
        context: &str,
        user: &str,
        readonly: bool,
        config: Arc<Config>,
        prometheus: Option<PrometheusConfig>,
    ) -> Actions {
        let audit = AuditLog::discover().unwrap_or_else(|| {
            let path = std::env::temp_dir().join("kubedeck-audit.jsonl");
            tracing::warn!("no home folder: the audit log goes to {}", path.display());
            AuditLog::new(path)
        });
        let refusal = config.refusal();
        Actions {
            deps: Deps {
                client: client.clone(),
                context: context.to_string(),
                config,
                executor: Arc::new(
                    Executor::new(client.clone(), context, user, readonly, audit)
                        .blocked_by(refusal),
                ),
                prometheus,
            },
            rbac: Arc::new(Rbac::new(client.clone(), Rbac::DEFAULT_TTL)),
            drains: Arc::default(),
        }
    }

    pub(super) fn client(&self) -> &Client {
        &self.deps.client
    }

    pub(super) fn config(&self) -> &Config {
        &self.deps.config
    }

    /// What the recovery test and runbook tasks act with.
    pub(super) fn ops_deps(&self) -> &Deps {
        &self.deps
    }

    /// Plans the command and asks RBAC, at once; answers with `Msg::Planned`.
    pub(super) fn plan(&self, id: u64, command: ActionCommand, answers: Answers) {
        let this = self.clone();
        tokio::spawn(async move {
            let d = &this.deps;
            let (permission, result) = tokio::join!(
                this.rbac.can(&command),
                plan(&d.client, &d.context, &d.config, command.clone())
            );
            if let Err(e) = &result {
                tracing::warn!("cannot plan {}: {e}", command.summary());
            }
            let msg = match (result, &command) {
                // Typed, so that the console offers what fits the refusal.
                (Err(error), ActionCommand::Replace { object, .. }) => Msg::EditRefused {
                    plan: Some(id),
                    object: object.clone(),
                    error,
                },
                (result, _) => Msg::Planned {
                    id,
                    result: result.map_err(|e| e.to_string()),
                    permission,
                },
            };
            answers.send(msg);
        });
    }

    /// Runs a confirmed command; answers with `Msg::Executed`.
    pub(super) fn execute(&self, confirmed: Confirmed, answers: Answers) {
        if let ActionCommand::Drain { node, .. } = confirmed.command() {
            return self.drain(node.clone(), confirmed, answers);
        }
        let executor = self.deps.executor.clone();
        tokio::spawn(async move {
            let command = confirmed.command().clone();
            tracing::info!("running {}", confirmed.confirmation().kubectl());
            let result = match executor.execute(confirmed).await {
                Ok(o) => Ok(match o.audit_error {
                    Some(a) => format!("{}; but {a}", o.message),
                    None => o.message,
                }),
                Err(e) => {
                    tracing::warn!("{}: {e}", command.summary());
                    if let ActionCommand::Replace { object, .. } = &command {
                        answers.send(Msg::EditRefused {
                            plan: None,
                            object: object.clone(),
                            error: e,
                        });
                        return;
                    }
                    Err(e.to_string())
                }
            };
            answers.send(Msg::Executed { command, result });
        });
    }

    /// Runs a confirmed drain, each step to the log and its status to the
    /// status line (`Msg::Progress`), the outcome as `Msg::Executed`: an
    /// error unless every pod it evicts is gone.
    fn drain(&self, node: String, confirmed: Confirmed, answers: Answers) {
        let executor = self.deps.executor.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        self.lock_drains().insert(node.clone(), stop);
        let drains = self.drains.clone();
        tokio::spawn(async move {
            let command = confirmed.command().clone();
            tracing::info!("running {}", confirmed.confirmation().kubectl());
            let mut progress = |u: &DrainUpdate| {
                if !matches!(u.event, DrainEvent::StillBlocked { .. }) {
                    tracing::info!("{}", u.event.line(&node));
                }
                answers.send(Msg::Progress {
                    command: command.clone(),
                    status: u.status.clone(),
                });
            };
            // Only a stop sent stops it: a sender dropped with its context
            // leaves the drain to finish.
            let stop = async {
                if stopped.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let result = match executor.drain(confirmed, &mut progress, stop).await {
                Ok(report) if report.is_complete() => Ok(report.summary()),
                Ok(report) => Err(report.summary()),
                Err(e) => Err(e.to_string()),
            };
            drains
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&node);
            match &result {
                Ok(m) => tracing::info!("{m}"),
                Err(e) => tracing::warn!("{e}"),
            }
            answers.send(Msg::Executed { command, result });
        });
    }

    /// Stops the drain of `node`, if one runs; it answers as it ends.
    pub(super) fn stop_drain(&self, node: &str) {
        if let Some(stop) = self.lock_drains().remove(node) {
            let _ = stop.send(());
        }
    }

    fn lock_drains(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<()>>> {
        self.drains.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Audits a change the console refused because the context is read-only.
    pub(super) fn audit_readonly_refusal(&self, namespace: String, object: String, action: String) {
        let executor = self.deps.executor.clone();
        tokio::spawn(async move {
            if let Some(problem) = executor
                .record_readonly_refusal(&namespace, &object, &action)
                .await
            {
                tracing::warn!("{problem}");
            }
        });
    }

    /// Lists a StatefulSet's ControllerRevisions; answers with `Msg::Revisions`.
    pub(super) fn load_revisions(&self, target: WorkloadRef, answers: Answers) {
        let client = self.deps.client.clone();
        tokio::spawn(async move {
            let api: Api<ControllerRevision> = Api::namespaced(client, &target.namespace);
            let result = api
                .list(&ListParams::default())
                .await
                .map(|l| {
                    l.items
                        .into_iter()
                        .filter_map(|cr| serde_json::to_value(cr).ok())
                        .collect()
                })
                .map_err(|e| e.to_string());
            answers.send(Msg::Revisions { target, result });
        });
    }
}
