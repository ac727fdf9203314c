//! Actions from keys: the selected row becomes a command, a form asks for
//! its parameters, the runtime plans it (`Effect::Plan`), a confirm dialog
//! shows the exact confirmation, and Enter hands the `Confirmed` command to
//! the runtime (`Effect::Execute`). Pure, like the rest of `update`.

use chrono::{DateTime, Utc};
use kube::runtime::reflector::ObjectRef as StoreRef;

use super::cluster::{Cache, Kind};
use super::dialog::{ConfirmDialog, Dialog, EarlyKey, Form, HpaBounds};
use super::input::action::{Action, View};
use super::input::key::Key;
use super::input::keymap::{Keymap, Mode};
use super::rollout;
use super::state::{AppState, Body, Panel};
use super::theme::Role;
use super::update::{Effect, Updated};
use super::views::Scope;
use kubedeck_core::actions::{
    ActionError, Command, Confirmation, DrainOptions, ObjectRef, Permission, Propagation,
    ResourceRef, WorkloadKind, WorkloadRef,
};

/// The kinds whose changes a rollout or history panel shows.
pub(crate) const PANEL_KINDS: &[Kind] = &[
    Kind::Deployment,
    Kind::ReplicaSet,
    Kind::StatefulSet,
    Kind::Pod,
];

/// What an action applies to: the selected row's object.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ActionTarget {
    Workload(WorkloadRef),
    DaemonSet(ObjectRef),
    Pod(ObjectRef),
    Node(String),
    CronJob(ObjectRef),
    /// Any other object, which only delete applies to; `deletable` is
    /// whether the server serves delete for its resource.
    Resource {
        object: ResourceRef,
        deletable: bool,
    },
}

fn resource_ref(
    (group, version, kind, plural): (&str, &str, &str, &str),
    namespace: &str,
    name: &str,
) -> ResourceRef {
    ResourceRef {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
        name: name.into(),
    }
}

/// The resource of a built-in view's rows (group, version, kind, plural),
/// as the console watches them.
fn builtin_resource(
    view: View,
) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    Some(match view {
        View::Services => ("", "v1", "Service", "services"),
        View::Namespaces => ("", "v1", "Namespace", "namespaces"),
        View::Events => ("", "v1", "Event", "events"),
        View::Hpas => (
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
        ),
        View::Jobs => ("batch", "v1", "Job", "jobs"),
        _ => return None,
    })
}

/// What delete acts on: a pod keeps its own form (grace period, evict);
/// anything else is deleted as any resource is.
fn delete_target(target: ActionTarget) -> ActionTarget {
    let object = match target {
        ActionTarget::Workload(w) => {
            let kind = match w.kind {
                WorkloadKind::Deployment => "Deployment",
                WorkloadKind::StatefulSet => "StatefulSet",
            };
            resource_ref(("apps", "v1", kind, w.kind.plural()), &w.namespace, &w.name)
        }
        ActionTarget::DaemonSet(d) => resource_ref(
            ("apps", "v1", "DaemonSet", "daemonsets"),
            &d.namespace,
            &d.name,
        ),
        ActionTarget::Node(n) => resource_ref(("", "v1", "Node", "nodes"), "", &n),
        ActionTarget::CronJob(c) => resource_ref(
            ("batch", "v1", "CronJob", "cronjobs"),
            &c.namespace,
            &c.name,
        ),
        other => return other,
    };
    ActionTarget::Resource {
        object,
        deletable: true,
    }
}

fn target(state: &AppState) -> Option<ActionTarget> {
    let screen = state.screen();
    if let Some(panel) = screen.panel() {
        return Some(ActionTarget::Workload(panel.target().clone()));
    }
    if screen.text().is_some() {
        return None;
    }
    let (ns, name) = screen.selected_key()?.clone();
    match (screen.view, &screen.query.scope) {
        (View::Pods, Scope::Pod { .. }) => None,
        (View::Pods, _) => Some(ActionTarget::Pod(ObjectRef::new(&ns, &name))),
        (View::Workloads, _) => match name.split_once('/')? {
            ("Deployment", n) => Some(ActionTarget::Workload(WorkloadRef::deployment(&ns, n))),
            ("StatefulSet", n) => Some(ActionTarget::Workload(WorkloadRef::statefulset(&ns, n))),
            (_, n) => Some(ActionTarget::DaemonSet(ObjectRef::new(&ns, n))),
        },
        (View::Nodes, _) => Some(ActionTarget::Node(name)),
        (View::CronJobs, _) => Some(ActionTarget::CronJob(ObjectRef::new(&ns, &name))),
        (View::Backups, _) => Some(ActionTarget::CronJob(ObjectRef::new(&ns, &name))),
        (View::Resource, _) => {
            let r = screen.query.resource.as_ref()?;
            if r.group.is_empty() && r.plural == "pods" {
                return Some(ActionTarget::Pod(ObjectRef::new(&ns, &name)));
            }
            Some(ActionTarget::Resource {
                object: resource_ref((&r.group, &r.version, &r.kind, &r.plural), &ns, &name),
                deletable: r.deletable,
            })
        }
        // A tree's node, by the kind and name its path ends with.
        (View::Xray, _) => match *crate::xray::tree::segments(&name)?.last()? {
            ("Deployment", n) => Some(ActionTarget::Workload(WorkloadRef::deployment(&ns, n))),
            ("StatefulSet", n) => Some(ActionTarget::Workload(WorkloadRef::statefulset(&ns, n))),
            ("DaemonSet", n) => Some(ActionTarget::DaemonSet(ObjectRef::new(&ns, n))),
            (crate::xray::tree::POD, n) => Some(ActionTarget::Pod(ObjectRef::new(&ns, n))),
            ("CronJob", n) => Some(ActionTarget::CronJob(ObjectRef::new(&ns, n))),
            _ => None,
        },
        (view, _) => builtin_resource(view).map(|r| ActionTarget::Resource {
            object: resource_ref(r, &ns, &name),
            deletable: true,
        }),
    }
}

fn say(state: &mut AppState, text: impl Into<String>, role: Role) -> Updated {
    state.message = Some((text.into(), role));
    Updated::redraw()
}

/// Whether the action changes the cluster (and so is refused read-only).
fn mutating(action: &Action) -> bool {
    !matches!(action, Action::Rollback | Action::RolloutStatus)
}

pub(crate) fn on_action(
    state: &mut AppState,
    action: &Action,
    cache: &Cache,
    now: DateTime<Utc>,
) -> Updated {
    let Some(target) = target(state) else {
        return say(
            state,
            format!(
                "{} does not apply here: select a row first",
                action.describe()
            ),
            Role::Muted,
        );
    };
    // As k9s's u: on a node, rollback's key uncordons it.
    let action = match (action, &target) {
        (Action::Rollback, ActionTarget::Node(_)) => &Action::Uncordon,
        _ => action,
    };
    let target = if *action == Action::Delete {
        delete_target(target)
    } else {
        target
    };
    if let (Action::Restart | Action::Drain, ActionTarget::Node(node)) = (action, &target)
        && state.draining.contains(node)
    {
        return stop_drain(state, node.clone());
    }
    if state.readonly && mutating(action) {
        let name = command_name(action, &target, cache);
        return refuse_readonly(state, action, name, &target);
    }
    let workload = match &target {
        ActionTarget::Workload(w) => Some(w.clone()),
        _ => None,
    };
    match (action, target) {
        (Action::Scale, ActionTarget::Workload(w)) => {
            let Some((from, _)) = spec_of(cache, &w) else {
                return gone(state, &w.name);
            };
            let hpa = hpa_for(cache, &w);
            state.dialog = Some(Dialog::Form(Form::scale(w, from, hpa)));
            Updated::redraw()
        }
        (Action::SetImage, ActionTarget::Workload(w)) => {
            let Some((_, containers)) = spec_of(cache, &w) else {
                return gone(state, &w.name);
            };
            state.dialog = Some(Dialog::Form(Form::set_image(w, containers)));
            Updated::redraw()
        }
        (Action::Restart, ActionTarget::Workload(w)) => {
            plan(state, Command::RolloutRestart { target: w })
        }
        (Action::Pause, ActionTarget::Workload(w)) => plan(state, pause_command(cache, w)),
        (Action::Rollback, ActionTarget::Workload(w)) => open_panel(
            state,
            Panel::History {
                target: w,
                selected: None,
                controller_revisions: None,
            },
        ),
        (Action::RolloutStatus, ActionTarget::Workload(w)) => {
            open_panel(state, Panel::Rollout { target: w })
        }
        (Action::Delete, ActionTarget::Pod(pod)) => {
            state.dialog = Some(Dialog::Form(Form::delete_pod(pod)));
            Updated::redraw()
        }
        (Action::Kill, ActionTarget::Pod(pod)) => plan(state, kill_command(pod)),
        (
            Action::Delete,
            ActionTarget::Resource {
                object,
                deletable: true,
            },
        ) => {
            state.dialog = Some(Dialog::Form(Form::delete_resource(object)));
            Updated::redraw()
        }
        (
            Action::Delete,
            ActionTarget::Resource {
                object,
                deletable: false,
            },
        ) => say(
            state,
            format!(
                "the server does not delete {}: the resource has no delete verb",
                object.resource_name()
            ),
            Role::Muted,
        ),
        (Action::Cordon, ActionTarget::Node(node)) => plan(state, Command::Cordon { node }),
        (Action::Uncordon, ActionTarget::Node(node)) => plan(state, Command::Uncordon { node }),
        (Action::Restart | Action::Drain, ActionTarget::Node(node)) => {
            state.dialog = Some(Dialog::Form(Form::drain(node)));
            Updated::redraw()
        }
        (Action::Trigger, ActionTarget::CronJob(cronjob)) => {
            let job_name = manual_job_name(&cronjob.name, now);
            plan(state, Command::TriggerCronJob { cronjob, job_name })
        }
        (Action::Pause, ActionTarget::CronJob(cronjob)) => {
            plan(state, suspend_command(cache, cronjob))
        }
        (_, ActionTarget::DaemonSet(d)) => say(
            state,
            format!(
                "{} is not offered for daemonset/{}: kubedeck acts on Deployments and StatefulSets",
                action.describe(),
                d.name
            ),
            Role::Muted,
        ),
        (action, target) => {
            let what = match (workload, target) {
                (Some(w), _) => format!("{}/{}", w.kind.singular(), w.name),
                (None, ActionTarget::Resource { object, .. }) => object.slashed(),
                (None, _) => "this row".to_string(),
            };
            say(
                state,
                format!("{} does not apply to {what}", action.describe()),
                Role::Muted,
            )
        }
    }
}

/// Stops a running drain where it is: the evictions already made stand and
/// the node stays cordoned, which the message says.
fn stop_drain(state: &mut AppState, node: String) -> Updated {
    state.message = Some((
        format!("stopping the drain of node/{node}; it stays cordoned (C uncordons it)"),
        Role::Warning,
    ));
    Updated::with(Effect::StopDrain(node))
}

/// Pause a running rollout, resume a paused one.
fn pause_command(cache: &Cache, w: WorkloadRef) -> Command {
    let paused = cache
        .deployments
        .get(&StoreRef::new(&w.name).within(&w.namespace))
        .and_then(|d| d.spec.as_ref()?.paused)
        .unwrap_or(false);
    if paused {
        Command::ResumeRollout { target: w }
    } else {
        Command::PauseRollout { target: w }
    }
}

/// Suspend a CronJob, resume a suspended one.
fn suspend_command(cache: &Cache, cronjob: ObjectRef) -> Command {
    let suspended = cache
        .cronjobs
        .get(&StoreRef::new(&cronjob.name).within(&cronjob.namespace))
        .and_then(|c| c.spec.as_ref()?.suspend)
        .unwrap_or(false);
    if suspended {
        Command::ResumeCronJob { cronjob }
    } else {
        Command::SuspendCronJob { cronjob }
    }
}

fn kill_command(pod: ObjectRef) -> Command {
    Command::DeletePod {
        pod,
        grace_seconds: Some(0),
        force: true,
    }
}

/// The audit log's name for what `action` on `target` would run: the
/// command's own (`delete-pod` for kill, `resume-rollout` for pause on a
/// paused rollout), so that a refusal and a run are recorded alike. Scale,
/// set-image and delete name the command their form starts from.
fn command_name(action: &Action, target: &ActionTarget, cache: &Cache) -> Option<&'static str> {
    let cmd = match (action, target) {
        (Action::Scale, ActionTarget::Workload(w)) => Command::Scale {
            target: w.clone(),
            from: 0,
            to: 0,
        },
        (Action::SetImage, ActionTarget::Workload(w)) => Command::SetImage {
            target: w.clone(),
            container: String::new(),
            from: String::new(),
            to: String::new(),
        },
        (Action::Restart, ActionTarget::Workload(w)) => {
            Command::RolloutRestart { target: w.clone() }
        }
        (Action::Pause, ActionTarget::Workload(w)) => pause_command(cache, w.clone()),
        (Action::Delete | Action::Kill, ActionTarget::Pod(p)) => kill_command(p.clone()),
        (Action::Cordon, ActionTarget::Node(node)) => Command::Cordon { node: node.clone() },
        (Action::Uncordon, ActionTarget::Node(node)) => Command::Uncordon { node: node.clone() },
        (Action::Restart | Action::Drain, ActionTarget::Node(node)) => Command::Drain {
            node: node.clone(),
            options: DrainOptions::default(),
        },
        (Action::Trigger, ActionTarget::CronJob(c)) => Command::TriggerCronJob {
            cronjob: c.clone(),
            job_name: String::new(),
        },
        (Action::Pause, ActionTarget::CronJob(c)) => suspend_command(cache, c.clone()),
        (Action::Delete, ActionTarget::Resource { object, .. }) => Command::DeleteResource {
            object: object.clone(),
            propagation: Propagation::default(),
        },
        _ => return None,
    };
    Some(cmd.action())
}

/// Refuses a change in a read-only context at once, and has the refusal
/// audited like the executor's own, under the command's name when the
/// action names one.
fn refuse_readonly(
    state: &mut AppState,
    action: &Action,
    name: Option<&str>,
    target: &ActionTarget,
) -> Updated {
    let e = match &state.blocked {
        Some(why) => ActionError::Blocked(why.clone()),
        None => ActionError::ReadOnly {
            context: state.context.clone(),
        },
    };
    let mut out = say(state, e.to_string(), Role::Warning);
    let (namespace, object) = match target {
        ActionTarget::Workload(w) => (
            w.namespace.clone(),
            format!("{}/{}", w.kind.singular(), w.name),
        ),
        ActionTarget::DaemonSet(d) => (d.namespace.clone(), format!("daemonset/{}", d.name)),
        ActionTarget::Pod(p) => (p.namespace.clone(), format!("pod/{}", p.name)),
        ActionTarget::Node(name) => (String::new(), format!("node/{name}")),
        ActionTarget::CronJob(c) => (c.namespace.clone(), format!("cronjob/{}", c.name)),
        ActionTarget::Resource { object, .. } => (
            object.namespace.clone().unwrap_or_default(),
            object.slashed(),
        ),
    };
    let action = match name {
        Some(n) => n.to_string(),
        None => serde_json::to_value(action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| action.describe()),
    };
    out.effects.push(Effect::AuditReadonlyRefusal {
        namespace,
        object,
        action,
    });
    out
}

fn gone(state: &mut AppState, name: &str) -> Updated {
    say(
        state,
        format!("{name} is gone from the cluster"),
        Role::Warning,
    )
}

/// `kubectl create job --from` needs a name; like k9s, `<cronjob>-manual-`
/// and a stamp, cut so the Job's name stays a valid label value.
fn manual_job_name(cronjob: &str, now: DateTime<Utc>) -> String {
    let stamp = now.format("%H%M%S").to_string();
    let base: String = cronjob.chars().take(63 - 8 - stamp.len()).collect();
    format!("{}-manual-{stamp}", base.trim_end_matches(['-', '.']))
}

/// Replicas and (name, image) of each container of a workload, from the cache.
fn spec_of(cache: &Cache, w: &WorkloadRef) -> Option<(i32, Vec<(String, String)>)> {
    let (replicas, template) = match w.kind {
        WorkloadKind::Deployment => {
            let d = cache
                .deployments
                .get(&StoreRef::new(&w.name).within(&w.namespace))?;
            let spec = d.spec.as_ref()?;
            let template = spec.template.as_ref().and_then(|t| t.spec());
            (spec.replicas.unwrap_or(1), template.unwrap_or_default())
        }
        WorkloadKind::StatefulSet => {
            let s = cache
                .statefulsets
                .get(&StoreRef::new(&w.name).within(&w.namespace))?;
            let spec = s.spec.clone()?;
            (spec.replicas.unwrap_or(1), spec.template)
        }
    };
    let containers = template
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
        .collect();
    Some((replicas, containers))
}

fn hpa_for(cache: &Cache, w: &WorkloadRef) -> Option<HpaBounds> {
    let kind = match w.kind {
        WorkloadKind::Deployment => "Deployment",
        WorkloadKind::StatefulSet => "StatefulSet",
    };
    cache.hpas.state().into_iter().find_map(|h| {
        let spec = h.spec.as_ref()?;
        let r = &spec.scale_target_ref;
        (h.metadata.namespace.as_deref() == Some(w.namespace.as_str())
            && r.kind == kind
            && r.name == w.name)
            .then(|| HpaBounds {
                hpa: ObjectRef::new(&w.namespace, h.metadata.name.as_deref().unwrap_or_default()),
                min: spec.min_replicas.unwrap_or(1),
                max: spec.max_replicas,
            })
    })
}

/// Asks the runtime to plan the command; a dialog waits for the answer.
pub(crate) fn plan(state: &mut AppState, command: Command) -> Updated {
    if let Err(e) = command.validate() {
        return say(state, format!("invalid action: {e}"), Role::Warning);
    }
    state.requests += 1;
    let id = state.requests;
    state.dialog = Some(Dialog::Planning {
        id,
        summary: command.summary(),
        early: None,
    });
    Updated::with(Effect::Plan { id, command })
}

fn open_panel(state: &mut AppState, panel: Panel) -> Updated {
    let target = panel.target().clone();
    let (crumb, effects) = match &panel {
        Panel::Rollout { .. } => (format!("rollout {}", target.name), Vec::new()),
        Panel::History { .. } => (
            format!("history {}", target.name),
            if target.kind == WorkloadKind::StatefulSet {
                vec![Effect::LoadRevisions(target.clone())]
            } else {
                Vec::new()
            },
        ),
    };
    let top = state.screen();
    // The same panel again is a no-op; a rollout replaces the history it
    // came from, so Esc goes back to the table.
    if top.panel() == Some(&panel)
        || matches!((top.panel(), &panel), (Some(Panel::Rollout { target: a }), Panel::Rollout { target: b }) if a == b)
    {
        return Updated::default();
    }
    if top.panel().is_some_and(|p| p.target() == &target) && state.stack.len() > 1 {
        state.stack.pop();
    }
    state.push_over(crumb, Body::Panel(panel));
    Updated {
        redraw: true,
        effects,
    }
}

/// Keys on a rollout or history panel; None leaves the key to the table's
/// handling (Esc, views, actions on the panel's workload).
pub(crate) fn on_panel_action(
    state: &mut AppState,
    action: &Action,
    cache: &Cache,
) -> Option<Updated> {
    let panel = state.screen().panel()?.clone();
    match (action, panel) {
        (
            Action::Up | Action::Down | Action::Top | Action::Bottom,
            Panel::History {
                target,
                selected,
                controller_revisions,
            },
        ) => {
            let Some((current, _, revs)) =
                rollout::history(cache, &target, controller_revisions.as_deref())
            else {
                return Some(Updated::default());
            };
            let numbers: Vec<i64> = revs.iter().map(|r| r.number).collect();
            let at = selected
                .or_else(|| default_revision(current, &numbers))
                .and_then(|n| numbers.iter().position(|x| *x == n))
                .unwrap_or(0);
            let last = numbers.len().saturating_sub(1);
            let next = match action {
                Action::Up => at.saturating_sub(1),
                Action::Down => (at + 1).min(last),
                Action::Top => 0,
                _ => last,
            };
            if let Body::Panel(Panel::History { selected, .. }) = &mut state.screen_mut().body {
                *selected = numbers.get(next).copied();
            }
            Some(Updated::redraw())
        }
        (
            Action::Enter,
            Panel::History {
                target,
                selected,
                controller_revisions,
            },
        ) => {
            if state.readonly {
                let target = ActionTarget::Workload(target.clone());
                return Some(refuse_readonly(
                    state,
                    &Action::Rollback,
                    Some("rollback"),
                    &target,
                ));
            }
            let Some((current, _, revs)) =
                rollout::history(cache, &target, controller_revisions.as_deref())
            else {
                return Some(gone(state, &target.name));
            };
            let numbers: Vec<i64> = revs.iter().map(|r| r.number).collect();
            let Some(to) = selected.or_else(|| default_revision(current, &numbers)) else {
                return Some(say(
                    state,
                    "there is no revision to roll back to",
                    Role::Muted,
                ));
            };
            if to == current {
                return Some(say(
                    state,
                    format!("revision {to} is the current one: choose another to roll back to"),
                    Role::Muted,
                ));
            }
            Some(plan(
                state,
                Command::Rollback {
                    target,
                    from_revision: current,
                    to_revision: to,
                },
            ))
        }
        (a, _) if a.moves_cursor() || a.acts_on_rows() => Some(Updated::default()),
        _ => None,
    }
}

/// The revision the history preselects: the newest one that is not
/// current, which is what an undo goes back to.
pub(crate) fn default_revision(current: i64, numbers: &[i64]) -> Option<i64> {
    numbers
        .iter()
        .copied()
        .find(|n| *n != current)
        .or_else(|| numbers.first().copied())
}

pub(crate) fn on_planned(
    state: &mut AppState,
    id: u64,
    result: Result<Confirmation, String>,
    permission: Permission,
) -> Updated {
    let Some(Dialog::Planning {
        id: waiting, early, ..
    }) = &state.dialog
    else {
        return Updated::default();
    };
    if *waiting != id {
        // The user started another action since.
        return Updated::default();
    }
    let early_accept = *early == Some(EarlyKey::Accept);
    match result {
        Ok(confirmation) => {
            let denied = match permission {
                Permission::Allowed => None,
                Permission::Denied(reason) => Some(reason),
            };
            if let Some(reason) = &denied {
                state.message = Some((format!("not allowed: {reason}"), Role::Danger));
            }
            let mut confirm = ConfirmDialog::new(confirmation, denied);
            confirm.early_accept = early_accept;
            state.dialog = Some(Dialog::Confirm(confirm));
        }
        Err(e) => {
            state.dialog = None;
            state.message = Some((e, Role::Danger));
        }
    }
    Updated::redraw()
}

pub(crate) fn on_executed(
    state: &mut AppState,
    command: Command,
    result: Result<String, String>,
) -> Updated {
    if let Command::Drain { node, .. } = &command {
        state.draining.remove(node);
    }
    match result {
        Ok(message) => {
            state.message = Some((message, Role::Ok));
            match command {
                Command::RolloutRestart { target }
                | Command::SetImage { target, .. }
                | Command::Rollback { target, .. }
                | Command::ResumeRollout { target } => {
                    let mut out = open_panel(state, Panel::Rollout { target });
                    // The message changed even if the panel was already open.
                    out.redraw = true;
                    out
                }
                _ => Updated::redraw(),
            }
        }
        Err(e) => say(state, e, Role::Danger),
    }
}

/// A running action's progress, on the status line while it runs.
pub(crate) fn on_progress(state: &mut AppState, command: &Command, status: String) -> Updated {
    if let Command::Drain { node, .. } = command
        && !state.draining.contains(node)
    {
        // A late word from a drain already over or stopped.
        return Updated::default();
    }
    say(state, status, Role::Info)
}

pub(crate) fn on_revisions(
    state: &mut AppState,
    target: WorkloadRef,
    result: Result<Vec<serde_json::Value>, String>,
) -> Updated {
    let Body::Panel(Panel::History {
        target: shown,
        controller_revisions,
        ..
    }) = &mut state.screen_mut().body
    else {
        return Updated::default();
    };
    if *shown != target {
        return Updated::default();
    }
    match result {
        Ok(list) => {
            *controller_revisions = Some(list);
            Updated::redraw()
        }
        Err(e) => {
            *controller_revisions = Some(Vec::new());
            say(
                state,
                format!(
                    "cannot list the ControllerRevisions of {}: {e}",
                    target.name
                ),
                Role::Warning,
            )
        }
    }
}

pub(crate) fn on_dialog_key(state: &mut AppState, key: Key, keymap: &Keymap) -> Updated {
    let Some(dialog) = state.dialog.as_mut() else {
        return Updated::default();
    };
    let action = keymap.resolve(Mode::Dialog, key);
    match (dialog, action) {
        (_, Some(Action::Back)) => {
            state.dialog = None;
            // A cancelled dialog ends any edit under way.
            state.edit = None;
            say(state, "cancelled: nothing was changed", Role::Muted)
        }
        // Nothing is confirmed before its consequences are shown; the key
        // is acknowledged, not dropped.
        (Dialog::Planning { early, .. }, action) => {
            let now = if action == Some(&Action::Accept) {
                EarlyKey::Accept
            } else {
                EarlyKey::Other
            };
            // An Enter stays noted even if another key follows it.
            if *early != Some(EarlyKey::Accept) {
                *early = Some(now);
            }
            Updated::redraw()
        }
        (Dialog::Form(form), Some(Action::Accept)) => match form.command() {
            Ok(cmd) => plan(state, cmd),
            Err(e) => {
                form.error = Some(e);
                Updated::redraw()
            }
        },
        (Dialog::Form(form), Some(Action::NextField | Action::PrevField)) => {
            form.move_focus(action == Some(&Action::NextField));
            Updated::redraw()
        }
        (Dialog::Form(form), _) => Updated {
            redraw: form.edit(key),
            effects: Vec::new(),
        },
        (Dialog::Confirm(c), Some(Action::Accept)) => {
            let typed = c.confirmation.typed_name().map(|_| c.typed.as_str());
            match c.confirmation.confirm(typed) {
                Ok(confirmed) => {
                    let summary = confirmed.confirmation().summary();
                    if let Command::Drain { node, .. } = confirmed.command() {
                        state.draining.insert(node.clone());
                    }
                    state.dialog = None;
                    state.message = Some((format!("{summary}…"), Role::Info));
                    Updated::with(Effect::Execute(confirmed))
                }
                Err(e) => {
                    c.error = Some(e.to_string());
                    Updated::redraw()
                }
            }
        }
        (Dialog::Confirm(c), _) => Updated {
            redraw: c.edit(key),
            effects: Vec::new(),
        },
        (Dialog::Ops(_), _) => Updated::default(),
        (Dialog::Edit(p), Some(Action::Accept)) => {
            let p = p.clone();
            crate::edit::on_remedy(state, p)
        }
        (Dialog::Edit(_), _) => Updated::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Screen;
    use crate::test_support::{now, resize, rollout_cluster};
    use crate::update::{Msg, update};
    use crate::view_model;
    use crate::views::Query;
    use kubedeck_core::config::Config;

    struct T {
        state: AppState,
        cache: Cache,
        keymap: Keymap,
        /// The plan effect the runtime would be working on.
        pending: Option<Effect>,
    }

    impl T {
        /// The workloads view of the rollout cluster, on demo/web.
        fn new(context: &str) -> T {
            let cache = rollout_cluster();
            let keymap = Keymap::built_in_default();
            let mut state = AppState::new(context, None, false);
            state.stack = vec![Screen::new(View::Workloads, Query::default(), "workloads")];
            let mut t = T {
                state,
                cache,
                keymap,
                pending: None,
            };
            t.msg(resize(40));
            t.msg(Msg::Watch(crate::cluster::watch::WatchMsg::Synced(
                Kind::Deployment,
            )));
            t
        }

        fn msg(&mut self, msg: Msg) -> Updated {
            update(&mut self.state, msg, &self.cache, &self.keymap, now())
        }

        fn key(&mut self, k: &str) -> Updated {
            self.msg(Msg::Key(k.parse().expect("test key parses")))
        }

        fn typed(&mut self, text: &str) {
            for c in text.chars() {
                self.msg(Msg::Key(Key::plain(c)));
            }
        }

        fn message(&self) -> &str {
            self.state.message.as_ref().map_or("", |(m, _)| m.as_str())
        }

        fn dialog_text(&self) -> String {
            let vm = view_model::build(&self.state, &self.cache, &self.keymap, now());
            vm.dialog
                .map(|d| {
                    d.lines
                        .iter()
                        .map(|l| l.iter().map(|c| c.text.as_str()).collect::<String>())
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default()
        }

        /// Answers the pending plan as the runtime would.
        fn planned(&mut self, consequences: Vec<String>, permission: Permission) -> Confirmation {
            let Some(Effect::Plan { id, command }) = self.pending.take() else {
                panic!("no plan was asked for");
            };
            let c = Confirmation::new(
                command,
                &self.state.context,
                &Config::default(),
                consequences,
            );
            self.msg(Msg::Planned {
                id,
                result: Ok(c.clone()),
                permission,
            });
            c
        }
    }

    fn web() -> WorkloadRef {
        WorkloadRef::deployment("demo", "web")
    }

    fn plan_of(out: Updated) -> Effect {
        let mut effects = out.effects;
        assert_eq!(effects.len(), 1, "{effects:?}");
        effects.remove(0)
    }

    #[test]
    fn scale_goes_from_key_to_form_to_confirm_to_an_execute_effect() {
        let mut t = T::new("kind-dev");
        t.key("s");
        let text = t.dialog_text();
        assert!(
            text.contains("HPA web manages this deployment: it will override a new replica count (it keeps 2–4)."),
            "{text}"
        );
        t.key("backspace");
        t.typed("3");
        let effect = plan_of(t.key("enter"));
        assert_eq!(
            effect,
            Effect::Plan {
                id: 1,
                command: Command::Scale {
                    target: web(),
                    from: 2,
                    to: 3
                }
            }
        );
        assert!(matches!(
            t.state.dialog,
            Some(Dialog::Planning { id: 1, .. })
        ));
        t.pending = Some(effect);
        let c = t.planned(
            vec!["1 new pod will be created".into()],
            Permission::Allowed,
        );
        let text = t.dialog_text();
        assert!(
            text.contains("kubectl scale deployment/web --replicas=3 -n demo --context kind-dev"),
            "{text}"
        );
        assert!(text.contains("replicas 2 → replicas 3"), "{text}");
        assert!(text.contains("• 1 new pod will be created"), "{text}");
        let effect = plan_of(t.key("enter"));
        let expected = c.confirm(None).expect("no typed name in kind-dev");
        assert_eq!(effect, Effect::Execute(expected));
        assert!(t.state.dialog.is_none());
        assert_eq!(t.message(), "Scale deployment/web from 2 to 3…");
        t.msg(Msg::Executed {
            command: c.command().clone(),
            result: Ok("deployment/web scaled to 3".into()),
        });
        assert_eq!(t.message(), "deployment/web scaled to 3");
    }

    #[test]
    fn a_broken_config_is_named_in_the_refusal_not_called_read_only() {
        let mut t = T::new("kind-dev");
        t.state.readonly = true;
        t.state.blocked = Some("config /home/u/config.toml:3: unknown field `them`".into());
        let out = t.key("s");
        assert!(t.state.dialog.is_none());
        assert_eq!(
            t.message(),
            "refused: config /home/u/config.toml:3: unknown field `them`; nothing was changed"
        );
        assert!(matches!(
            out.effects.as_slice(),
            [Effect::AuditReadonlyRefusal { action, .. }] if action == "scale"
        ));
    }

    #[test]
    fn read_only_refuses_before_any_dialog_and_audits_the_refusal() {
        let mut t = T::new("kind-dev");
        t.state.readonly = true;
        // Each refusal is recorded under the name a run of it would be.
        for (k, action) in [
            ("s", "scale"),
            ("r", "rollout-restart"),
            ("i", "set-image"),
            ("p", "pause-rollout"),
        ] {
            let out = t.key(k);
            assert!(t.state.dialog.is_none(), "{k}");
            assert_eq!(
                t.message(),
                "refused: context kind-dev is read-only, so nothing was changed"
            );
            match out.effects.as_slice() {
                [
                    Effect::AuditReadonlyRefusal {
                        object, action: a, ..
                    },
                ] => {
                    assert!(object.starts_with("deployment/"), "{k}: {object}");
                    assert_eq!(a, action, "{k}");
                }
                other => panic!("{k}: expected one audit effect, got {other:?}"),
            }
        }
        // Looking is fine; rolling back is not.
        t.key("u");
        assert!(matches!(
            t.state.screen().panel(),
            Some(Panel::History { .. })
        ));
        let out = t.key("enter");
        assert!(matches!(
            out.effects.as_slice(),
            [Effect::AuditReadonlyRefusal { action, .. }] if action == "rollback"
        ));
        assert!(
            t.message()
                .starts_with("refused: context kind-dev is read-only")
        );
    }

    #[test]
    fn delete_on_a_built_in_view_opens_the_cascade_form_of_that_object() {
        let mut t = T::new("kind-dev");
        t.key("ctrl-d");
        let Some(Dialog::Form(form)) = &t.state.dialog else {
            panic!("no form: {:?}", t.state.dialog);
        };
        assert_eq!(form.title, "Delete deployment.apps/web");
        let effect = plan_of(t.key("enter"));
        let Effect::Plan { command, .. } = effect else {
            panic!("{effect:?}");
        };
        assert_eq!(
            command.kubectl(),
            "kubectl delete deployment.apps/web -n demo --cascade=background"
        );
        let mut ro = T::new("kind-dev");
        ro.state.readonly = true;
        let out = ro.key("ctrl-d");
        assert!(ro.state.dialog.is_none());
        assert!(
            matches!(
                out.effects.as_slice(),
                [Effect::AuditReadonlyRefusal { object, action, .. }]
                    if object == "deployment.apps/web" && action == "delete"
            ),
            "{:?}",
            out.effects
        );
    }

    #[test]
    fn read_only_refusals_of_pod_actions_are_audited_as_delete_pod() {
        let mut t = T::new("kind-dev");
        t.state.readonly = true;
        t.key("1");
        t.msg(Msg::Watch(crate::cluster::watch::WatchMsg::Synced(
            Kind::Pod,
        )));
        for k in ["ctrl-k", "ctrl-d"] {
            let out = t.key(k);
            match out.effects.as_slice() {
                [Effect::AuditReadonlyRefusal { object, action, .. }] => {
                    assert!(object.starts_with("pod/"), "{k}: {object}");
                    assert_eq!(action, "delete-pod", "{k}");
                }
                other => panic!("{k}: expected one audit effect, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_protected_context_needs_the_typed_name() {
        let mut t = T::new("gke_prod-eu");
        t.pending = Some(plan_of(t.key("r")));
        let c = t.planned(Vec::new(), Permission::Allowed);
        assert!(
            t.dialog_text()
                .contains("context gke_prod-eu is protected: type \"web\" to confirm")
        );
        let out = t.key("enter");
        assert!(out.effects.is_empty(), "nothing runs without the name");
        assert!(t.dialog_text().contains("type \"web\" to confirm"));
        t.typed("wbe");
        assert!(t.key("enter").effects.is_empty());
        assert!(
            t.dialog_text()
                .contains("typed \"wbe\", but confirming needs \"web\"")
        );
        for _ in 0..3 {
            t.key("backspace");
        }
        t.typed("web");
        let effect = plan_of(t.key("enter"));
        assert_eq!(
            effect,
            Effect::Execute(c.confirm(Some("web")).expect("named"))
        );
    }

    #[test]
    fn rbac_denial_is_shown_and_a_forced_attempt_reports_the_api_message() {
        let mut t = T::new("kind-dev");
        t.pending = Some(plan_of(t.key("r")));
        let reason = "RBAC does not let you patch deployments.apps in namespace demo";
        t.planned(Vec::new(), Permission::Denied(reason.into()));
        assert_eq!(t.message(), format!("not allowed: {reason}"));
        let vm = view_model::build(&t.state, &t.cache, &t.keymap, now());
        assert!(vm.dialog.as_ref().is_some_and(|d| d.danger));
        assert!(t.dialog_text().contains(&format!("not allowed: {reason}")));
        let effect = plan_of(t.key("enter"));
        let Effect::Execute(confirmed) = effect else {
            panic!("a forced attempt still goes to the executor");
        };
        let api = "forbidden: you may not patch deployments.apps in namespace demo; nothing was changed (deployments.apps \"web\" is forbidden)";
        t.msg(Msg::Executed {
            command: confirmed.command().clone(),
            result: Err(api.into()),
        });
        assert_eq!(t.message(), api);
        assert_eq!(t.state.message.as_ref().map(|m| m.1), Some(Role::Danger));
        assert!(
            t.state.screen().panel().is_none(),
            "no rollout follows a failure"
        );
    }

    #[test]
    fn a_late_plan_for_a_cancelled_dialog_is_ignored() {
        let mut t = T::new("kind-dev");
        t.pending = Some(plan_of(t.key("r")));
        t.key("esc");
        assert_eq!(t.message(), "cancelled: nothing was changed");
        t.planned(Vec::new(), Permission::Allowed);
        assert!(t.state.dialog.is_none());
    }

    #[test]
    fn history_preselects_the_previous_revision_and_enter_plans_the_rollback() {
        let mut t = T::new("kind-dev");
        t.key("u");
        let vm = view_model::build(&t.state, &t.cache, &t.keymap, now());
        let panel = vm.panel.expect("the history panel");
        let rows: Vec<String> = panel
            .lines
            .iter()
            .map(|l| l.iter().map(|c| c.text.as_str()).collect())
            .collect();
        assert!(rows.iter().any(|r| r.starts_with("▶  1 ")), "{rows:#?}");
        assert!(
            rows.iter()
                .any(|r| r == "-   - image: registry.example/web:notfound"),
            "{rows:#?}"
        );
        assert!(
            rows.iter()
                .any(|r| r == "+   - image: registry.example/web:1.0.0"),
            "{rows:#?}"
        );
        let effect = plan_of(t.key("enter"));
        assert_eq!(
            effect,
            Effect::Plan {
                id: 1,
                command: Command::Rollback {
                    target: web(),
                    from_revision: 2,
                    to_revision: 1
                }
            }
        );
        t.key("esc");
        t.key("k");
        let out = t.key("enter");
        assert!(out.effects.is_empty());
        assert_eq!(
            t.message(),
            "revision 2 is the current one: choose another to roll back to"
        );
    }

    #[test]
    fn a_successful_rollout_action_opens_the_live_progress() {
        let mut t = T::new("kind-dev");
        t.key("u");
        t.msg(Msg::Executed {
            command: Command::Rollback {
                target: web(),
                from_revision: 2,
                to_revision: 1,
            },
            result: Ok("deployment.apps/web rolled back".into()),
        });
        assert_eq!(
            t.state.screen().panel().cloned(),
            Some(Panel::Rollout { target: web() })
        );
        assert_eq!(t.state.stack.len(), 2, "the rollout replaced the history");
        let out = t.msg(Msg::Watch(crate::cluster::watch::WatchMsg::Changed(
            Kind::ReplicaSet,
        )));
        assert!(out.redraw, "the panel follows the watch");
        let out = t.msg(Msg::Watch(crate::cluster::watch::WatchMsg::Changed(
            Kind::Node,
        )));
        assert!(!out.redraw);
    }

    #[test]
    fn actions_that_do_not_fit_the_row_say_so() {
        let mut t = T::new("kind-dev");
        t.key("c");
        assert_eq!(t.message(), "cordon node does not apply to deployment/web");
        assert!(t.state.dialog.is_none());
    }

    /// r on a node row (k9s's drain key): kubectl drain's choices, the
    /// plan, then progress on the status line; r again stops it.
    #[test]
    fn r_on_a_node_drains_it_with_progress_and_r_again_stops_it() {
        let mut t = T::new("kind-dev");
        t.cache = crate::test_support::cluster();
        t.key(":");
        t.typed("nodes");
        t.key("enter");
        t.msg(Msg::Watch(crate::cluster::watch::WatchMsg::Synced(
            Kind::Node,
        )));
        t.key("/");
        t.typed("node-1");
        t.key("enter");
        t.key("r");
        let text = t.dialog_text();
        assert!(text.contains("ignore DaemonSets  ◀ yes ▶"), "{text}");
        assert!(text.contains("timeout  5m"), "{text}");
        let effect = plan_of(t.key("enter"));
        let drain = Command::Drain {
            node: "node-1".into(),
            options: DrainOptions {
                ignore_daemonsets: true,
                ..DrainOptions::default()
            },
        };
        assert_eq!(
            effect,
            Effect::Plan {
                id: 1,
                command: drain.clone()
            }
        );
        t.pending = Some(effect);
        t.planned(
            vec!["evicts 1 pod: shop/web-7d4b9c8f6d-x2x4k".into()],
            Permission::Allowed,
        );
        let text = t.dialog_text();
        assert!(
            text.contains(
                "kubectl drain node-1 --ignore-daemonsets --timeout=300s --context kind-dev"
            ),
            "{text}"
        );
        assert!(
            text.contains("• evicts 1 pod: shop/web-7d4b9c8f6d-x2x4k"),
            "{text}"
        );
        assert!(matches!(plan_of(t.key("enter")), Effect::Execute(_)));
        t.msg(Msg::Progress {
            command: drain.clone(),
            status: "draining node/node-1: 0 of 1 pod gone, 1 waiting on PodDisruptionBudget web (1.00s)".into(),
        });
        assert_eq!(
            t.message(),
            "draining node/node-1: 0 of 1 pod gone, 1 waiting on PodDisruptionBudget web (1.00s)"
        );
        assert_eq!(plan_of(t.key("r")), Effect::StopDrain("node-1".into()));
        assert_eq!(
            t.message(),
            "stopping the drain of node/node-1; it stays cordoned (C uncordons it)"
        );
        let stopped = "drain of node/node-1 stopped after 2.00s: 0 pods evicted, 1 pod not gone: shop/web-7d4b9c8f6d-x2x4k (waiting on PodDisruptionBudget web); node/node-1 stays cordoned";
        t.msg(Msg::Executed {
            command: drain.clone(),
            result: Err(stopped.into()),
        });
        assert_eq!(t.message(), stopped);
        assert_eq!(t.state.message.as_ref().map(|m| m.1), Some(Role::Danger));
        // A late progress word changes nothing; r drains again.
        t.msg(Msg::Progress {
            command: drain,
            status: "draining node/node-1: late".into(),
        });
        assert_eq!(t.message(), stopped);
        t.key("r");
        assert!(t.dialog_text().contains("ignore DaemonSets"));
    }

    #[test]
    fn read_only_refuses_a_drain_before_its_form_and_audits_it_as_drain() {
        let mut t = T::new("kind-dev");
        t.cache = crate::test_support::cluster();
        t.state.readonly = true;
        t.key(":");
        t.typed("nodes");
        t.key("enter");
        t.msg(Msg::Watch(crate::cluster::watch::WatchMsg::Synced(
            Kind::Node,
        )));
        let out = t.key("r");
        assert!(t.state.dialog.is_none());
        assert!(matches!(
            out.effects.as_slice(),
            [Effect::AuditReadonlyRefusal { object, action, .. }]
                if object.starts_with("node/") && action == "drain"
        ));
    }

    #[test]
    fn manual_job_names_stay_valid() {
        assert_eq!(manual_job_name("report", now()), "report-manual-030000");
        let long = "a".repeat(80);
        assert!(manual_job_name(&long, now()).len() <= 63);
    }
}
