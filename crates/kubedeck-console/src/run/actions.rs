//! The action core of one context: planning reads through its client,
//! RBAC answers are cached, and only the executor changes anything. Each
//! call spawns its work and answers with a message.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::ControllerRevision;
use kube::Client;
use kube::api::{Api, ListParams};

use super::Answers;
use crate::oncall::tasks::Deps;
use crate::update::Msg;
use kubedeck_core::actions::{
    AuditLog, Command as ActionCommand, Confirmed, Executor, Rbac, WorkloadRef, plan,
};
use kubedeck_core::config::Config;
use kubedeck_core::metrics::PrometheusConfig;

#[derive(Clone)]
pub(super) struct Actions {
    /// This context's client, settings, executor and Prometheus, which the
    /// recovery test and runbook tasks act with too.
    deps: Deps,
    rbac: Arc<Rbac>,
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
            answers.send(Msg::Planned {
                id,
                result: result.map_err(|e| e.to_string()),
                permission,
            });
        });
    }

    /// Runs a confirmed command; answers with `Msg::Executed`.
    pub(super) fn execute(&self, confirmed: Confirmed, answers: Answers) {
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
                    Err(e.to_string())
                }
            };
            answers.send(Msg::Executed { command, result });
        });
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
