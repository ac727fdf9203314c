//! What every headless command that talks to a cluster opens first: the
//! kubeconfig's context, the user's config, the audit log and an executor
//! that enforces read-only, RBAC and confirmation; and the terminal prompt
//! that confirms a change.

use std::future::Future;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use kubedeck_core::actions::{AuditLog, Executor, kubeconfig_user};
use kubedeck_core::config::{Config, Paths};
use kubedeck_core::connect::{connect, read_kubeconfig_file};

use crate::cli::ClusterArgs;

/// How long a headless command's reads before a change (or instead of
/// one) may take: `connect` bounds a server that never answers, this one
/// that stops answering after the connection check. kube-rs sets no read
/// timeout, and one set on the client would also cut quiet watches.
const READS_TIMEOUT: Duration = Duration::from_secs(30);

/// A client, the user's config and an executor for the chosen context.
pub(crate) struct Session {
    pub client: kube::Client,
    pub context: String,
    /// The kubeconfig user the context acts as, for the audit log.
    pub user: String,
    pub config: Config,
    pub audit: AuditLog,
    pub executor: Executor,
}

impl Session {
    /// Connects to the cluster; `readonly` is `--readonly` (a context
    /// marked read-only in config.toml is read-only too).
    pub(crate) async fn open(cluster: &ClusterArgs, readonly: bool) -> anyhow::Result<Session> {
        let kubeconfig = read_kubeconfig_file(cluster.kubeconfig.as_deref()).await?;
        let user = kubeconfig_user(&kubeconfig, cluster.context.as_deref());
        let (context, client) = connect(kubeconfig, cluster.context.as_deref()).await?;
        let paths = Paths::discover();
        let config = match &paths {
            Some(p) => {
                let (config, _) = Config::load(&p.config_file());
                if let Some(refusal) = config.refusal() {
                    eprintln!("kubedeck: {refusal}");
                }
                config
            }
            None => Config::default(),
        };
        let audit = AuditLog::discover()
            .ok_or_else(|| anyhow!("no home directory: cannot find the audit log"))?;
        let readonly = readonly || config.readonly_for(&context);
        let executor = Executor::new(client.clone(), &context, &user, readonly, audit.clone())
            .blocked_by(config.refusal());
        Ok(Session {
            client,
            context,
            user,
            config,
            audit,
            executor,
        })
    }

    /// Runs `reads`, requests that change nothing, within `READS_TIMEOUT`;
    /// past it, says the API server stopped answering.
    pub(crate) async fn reading<T>(
        &self,
        what: &str,
        reads: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        tokio::time::timeout(READS_TIMEOUT, reads)
            .await
            .map_err(|_| {
                anyhow!(
                    "the API server of context {} stopped answering: no answer within {} while {what}; nothing was changed",
                    self.context,
                    kubedeck_kube::duration::human(READS_TIMEOUT)
                )
            })?
    }

    /// `-n`, else the kubeconfig context's namespace.
    pub(crate) fn namespace(&self, namespace: Option<&str>) -> String {
        namespace.map_or_else(
            || self.client.default_namespace().to_string(),
            str::to_string,
        )
    }

    /// Refuses early, with the reason, in read-only mode or with a broken
    /// config.toml, and audits the refusal as the executor does its own;
    /// refuses too when the audit log cannot be written.
    pub(crate) async fn check_writable(
        &self,
        namespace: &str,
        object: &str,
        action: &str,
    ) -> anyhow::Result<()> {
        if let Some(refusal) = self.executor.refusal() {
            if let Some(problem) = self
                .executor
                .record_readonly_refusal(namespace, object, action)
                .await
            {
                tracing::warn!("{problem}");
            }
            return Err(refusal.into());
        }
        self.executor.check_audit().await?;
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
    eprint!("{}", kubedeck_core::terminal::safe(&prompt));
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
