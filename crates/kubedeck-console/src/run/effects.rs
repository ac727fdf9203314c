//! Carrying out `update`'s effects: each starts background work on the
//! current connection, or changes what the runtime streams, and the work
//! answers with messages.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::sync::Arc;

use super::connect::{spawn_connect, spawn_list_contexts};
use super::{Contexts, Runtime};
use crate::cluster::Kind;
use crate::cluster::watch::WatchMsg;
use crate::full_yaml;
use crate::logview::task::{self as logtask, LogTask};
use crate::oncall::backup_view;
use crate::oncall::tasks::Reply;
use crate::update::{Effect, Msg};

impl Runtime<'_> {
    /// Carries out `effect`; an answer it has at once goes on `queue`, for
    /// `update` before anything else. Breaks on quit.
    pub(super) fn execute(&mut self, effect: Effect, queue: &mut VecDeque<Msg>) -> ControlFlow<()> {
        let conn = &mut self.conn;
        let answers = &self.answers;
        match effect {
            Effect::Quit => return ControlFlow::Break(()),
            Effect::SwitchContext(name) => match &self.settings.opts.contexts {
                Contexts::Fixed => queue.push_back(Msg::ContextFailed {
                    name,
                    error: "kubedeck demo runs one in-process cluster; start kubedeck on a kubeconfig to switch contexts".into(),
                }),
                Contexts::Kubeconfig(file) => {
                    self.request += 1;
                    tracing::info!("switching to context {name}");
                    spawn_connect(file.clone(), self.request, name, answers.clone());
                }
            },
            Effect::SetTheme(name) => {
                let warnings = self.looks.choose(Some(name.clone()));
                queue.push_back(Msg::ThemeSet { name, warnings });
            }
            Effect::ListContexts => match &self.settings.opts.contexts {
                Contexts::Fixed => queue.push_back(Msg::Contexts(Err(format!(
                    "kubedeck demo has one context, {}: there is no other to switch to",
                    self.settings.opts.context
                )))),
                Contexts::Kubeconfig(file) => spawn_list_contexts(file.clone(), answers.clone()),
            },
            Effect::Plan { id, command } => conn.actions.plan(id, command, answers.clone()),
            Effect::Execute(confirmed) => conn.actions.execute(confirmed, answers.clone()),
            Effect::StopDrain(node) => conn.actions.stop_drain(&node),
            Effect::AuditReadonlyRefusal {
                namespace,
                object,
                action,
            } => conn.actions.audit_readonly_refusal(namespace, object, action),
            Effect::LoadRevisions(target) => {
                conn.actions.load_revisions(target, answers.clone());
            }
            Effect::LoadFull(target) => {
                let (client, answers) = (conn.actions.client().clone(), answers.clone());
                tokio::spawn(async move {
                    answers.send(full_yaml::fetch(client, target).await);
                });
            }
            Effect::OpenLogs {
                stream,
                target,
                options,
            } => {
                let client = conn.actions.client().clone();
                conn.logs = Some(LogTask::spawn(client, stream, target, options));
            }
            Effect::CloseLogs => conn.logs = None,
            Effect::Browse(target) => conn.browse(target),
            Effect::SaveLogs {
                buffer,
                file_name,
                timestamps,
                filtered,
            } => {
                let answers = answers.clone();
                tokio::spawn(async move {
                    answers.send(logtask::save(buffer, file_name, timestamps, filtered).await);
                });
            }
            Effect::FollowBackupLogs(follow) => {
                let answers = answers.clone();
                self.backup_logs = Some(backup_view::spawn_logs(
                    conn.actions.client(),
                    follow,
                    move |m| answers.send(m),
                ));
            }
            Effect::StopBackupLogs => self.backup_logs = None,
            Effect::WatchAllEvents(on) => {
                conn.watch_all_events(on);
                if on {
                    // The screen shows the new, empty store as loading
                    // rather than rows it read from the warnings.
                    queue.push_back(Msg::Watch(WatchMsg::Changed(Kind::Event)));
                }
            }
            Effect::RequestCharts(wanted) => conn.charts.want(wanted),
            Effect::Shell(target) => self.shell = Some(target),
            Effect::Edit(request) => self.edit = Some(request),
            Effect::Exec { target, command } => {
                let executor = conn.actions.ops_deps().executor.clone();
                let answers = answers.clone();
                tokio::spawn(async move {
                    let result = kubedeck_core::exec::run(&executor, &target, &command)
                        .await
                        .map_err(|e| e.to_string());
                    let (title, lines) = crate::shell::output_pane(&target, &command, result);
                    answers.send(Msg::ExecOutput { title, lines });
                });
            }
            Effect::SecretKeys(secret) => {
                let (client, answers) = (conn.actions.client().clone(), answers.clone());
                tokio::spawn(async move {
                    answers.send(crate::reveal::fetch_keys(client, secret).await);
                });
            }
            Effect::Reveal(target) => {
                let executor = conn.actions.ops_deps().executor.clone();
                let allow = conn.actions.config().allow_reveal_in_read_only;
                let answers = answers.clone();
                tokio::spawn(async move {
                    let result = kubedeck_core::reveal::reveal(&executor, allow, &target)
                        .await
                        .map_err(|e| e.to_string());
                    answers.send(Msg::Revealed { target, result });
                });
            }
            Effect::Ops(effect) => {
                let answers = answers.clone();
                let reply: Reply = Arc::new(move |m| {
                    answers.send(m);
                });
                self.ops_tasks
                    .handle(effect, conn.actions.ops_deps(), reply);
            }
        }
        ControlFlow::Continue(())
    }
}
