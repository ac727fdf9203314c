//! Port-forwarding in the console: `F` on a pod, service or workload row
//! reads the ports it offers (container ports from the spec, a Service's
//! ports) into a form; Enter starts the forward in the runtime, which
//! checks read-only mode and RBAC and audits it. `:pf` lists the forwards
//! with their traffic; Delete stops one. Forwards belong to the runtime,
//! not a screen: they survive view changes and end when kubedeck exits.

use super::{OpsEffect, Pane, PaneParts, effect, say};
use crate::dialog::{Dialog, Field, Form, FormKind};
use crate::input::action::{Action, View};
use crate::state::{AppState, Body};
use crate::theme::Role;
use crate::update::{Effect, Updated};
use crate::views::{Cell, Scope};
use kubedeck_core::portforward::{Offer, PortSpec, Target, TargetKind};

/// One forward as the `:pf` pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRow {
    pub id: u64,
    /// `svc/web`.
    pub target: String,
    pub namespace: String,
    /// `127.0.0.1:8080`.
    pub local: String,
    /// The remote port as asked (`80`, `http`).
    pub remote: String,
    /// `web-6d4b…:8080`, or why there is no pod.
    pub pod: String,
    pub sent: u64,
    pub received: u64,
    pub connections: u64,
    pub active: u64,
    pub problem: Option<String>,
}

/// The target of the selected row: a pod (or the pod whose containers
/// are listed), a Service, or a workload.
fn selected_target(state: &AppState) -> Option<Target> {
    let screen = state.screen();
    if screen.covered() {
        return None;
    }
    let target = |kind, ns: &str, name: &str| Target {
        kind,
        namespace: ns.to_string(),
        name: name.to_string(),
    };
    if let Scope::Pod { namespace, name } = &screen.query.scope {
        return Some(target(TargetKind::Pod, namespace, name));
    }
    let (ns, name) = screen.selected_key()?;
    match screen.view {
        View::Pods => Some(target(TargetKind::Pod, ns, name)),
        View::Services => Some(target(TargetKind::Service, ns, name)),
        View::Workloads => match name.split_once('/')? {
            ("Deployment", n) => Some(target(TargetKind::Deployment, ns, n)),
            ("StatefulSet", n) => Some(target(TargetKind::StatefulSet, ns, n)),
            ("DaemonSet", n) => Some(target(TargetKind::DaemonSet, ns, n)),
            _ => None,
        },
        _ => None,
    }
}

/// `F`: read the selection's ports for the form.
pub(super) fn open(state: &mut AppState) -> Updated {
    let Some(target) = selected_target(state) else {
        return say(
            state,
            "port-forward applies to a pod, service or workload: select one",
            Role::Muted,
        );
    };
    if state.readonly {
        let text = format!(
            "refused: context {} is read-only, and a port-forward opens a connection into a pod; nothing was started",
            state.context
        );
        let mut out = say(state, text, Role::Warning);
        out.effects.push(Effect::AuditReadonlyRefusal {
            namespace: target.namespace.clone(),
            object: target.object(),
            action: kubedeck_core::portforward::ACTION.into(),
        });
        return out;
    }
    state.requests += 1;
    let id = state.requests;
    state.message = Some((
        format!("reading the ports of {}…", target.object()),
        Role::Muted,
    ));
    state.ops.pf_pending = Some((id, target.clone()));
    effect(OpsEffect::InspectPortForward { id, target })
}

fn offer_text(o: &Offer) -> String {
    format!("{} ({})", o.port, o.label)
}

/// The ports came: the form, the first offered port chosen.
pub(super) fn on_ports(
    state: &mut AppState,
    id: u64,
    result: Result<Vec<Offer>, String>,
) -> Updated {
    let Some((pending, target)) = state.ops.pf_pending.take() else {
        return Updated::default();
    };
    if pending != id {
        state.ops.pf_pending = Some((pending, target));
        return Updated::default();
    }
    let offers = match result {
        Ok(o) => o,
        Err(e) => return say(state, e, Role::Warning),
    };
    state.message = None;
    let mut notes = vec![(
        "Listens on 127.0.0.1 only; local port 0 picks a free one.".to_string(),
        Role::Muted,
    )];
    let remote = if offers.is_empty() {
        notes.push((
            "The spec declares no ports: type the container port.".into(),
            Role::Warning,
        ));
        Field::text("remote port", "")
    } else {
        notes.push((
            "←/→ choose the port; tab moves; :pf lists the forwards.".into(),
            Role::Muted,
        ));
        Field::choice("remote port", offers.iter().map(offer_text).collect())
    };
    // The same number locally, as k9s does, unless it needs privileges.
    let local = offers
        .first()
        .map(|o| o.port)
        .filter(|p| *p >= 1024)
        .unwrap_or(0);
    let form = Form {
        title: format!(
            "Port-forward to {} in {}",
            target.object(),
            target.namespace
        ),
        kind: FormKind::PortForward { target },
        fields: vec![remote, Field::text("local port", local.to_string())],
        focus: 0,
        notes,
        error: None,
    };
    state.dialog = Some(Dialog::Form(form));
    Updated::redraw()
}

/// The forward the form describes.
fn spec_of(form: &Form) -> Result<PortSpec, String> {
    let remote = form.fields[0]
        .value
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    if remote.is_empty() {
        return Err("type the remote port".into());
    }
    let local = form.fields[1].value.trim();
    let local = if local.is_empty() { "0" } else { local };
    PortSpec::parse(&format!("{local}:{remote}"))
}

/// Enter on the form starts the forward; other keys are the form's own.
pub(super) fn form_key(state: &mut AppState, action: Option<&Action>) -> Option<Updated> {
    if action != Some(&Action::Accept) {
        return None;
    }
    let Some(Dialog::Form(form)) = &mut state.dialog else {
        return None;
    };
    let FormKind::PortForward { target } = &form.kind else {
        return None;
    };
    let target = target.clone();
    match spec_of(form) {
        Ok(spec) => {
            state.dialog = None;
            state.message = Some((
                format!("starting a port-forward to {}…", target.object()),
                Role::Muted,
            ));
            Some(effect(OpsEffect::StartPortForward { target, spec }))
        }
        Err(e) => {
            form.error = Some(e);
            Some(Updated::redraw())
        }
    }
}

pub(super) fn on_note(state: &mut AppState, note: Result<String, String>) -> Updated {
    match note {
        Ok(text) => say(state, text, Role::Ok),
        Err(e) => say(state, e, Role::Warning),
    }
}

pub(super) fn on_rows(state: &mut AppState, rows: Vec<ForwardRow>) -> Updated {
    let n = rows.len();
    state.ops.forwards = rows;
    if let Body::Ops(Pane::PortForwards { selected }) = &mut state.screen_mut().body {
        *selected = (*selected).min(n.saturating_sub(1));
    }
    Updated::redraw()
}

/// Keys on `:pf`: move, Delete (or Kill) stops the selected forward.
pub(super) fn pane_key(state: &mut AppState, selected: usize, action: &Action) -> Option<Updated> {
    let n = state.ops.forwards.len();
    let next = match action {
        Action::Down => (selected + 1).min(n.saturating_sub(1)),
        Action::Up => selected.saturating_sub(1),
        Action::Top => 0,
        Action::Bottom => n.saturating_sub(1),
        Action::Delete | Action::Kill => {
            let Some(row) = state.ops.forwards.get(selected) else {
                return Some(say(state, "no port-forward to stop", Role::Muted));
            };
            let id = row.id;
            return Some(effect(OpsEffect::StopPortForward { id }));
        }
        Action::PageUp
        | Action::PageDown
        | Action::Enter
        | Action::Filter
        | Action::SortNext
        | Action::SortReverse
        | Action::SortBy(_)
        | Action::ToggleFaults
        | Action::Describe
        | Action::Yaml
        | Action::PortForward => return Some(Updated::default()),
        _ => return None,
    };
    state.screen_mut().body = Body::Ops(Pane::PortForwards { selected: next });
    Some(Updated::redraw())
}

/// 1536 → "1.5KiB", as the pane shows traffic.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1}{}", UNITS[unit])
}

pub(super) fn pane(state: &AppState, selected: usize) -> PaneParts {
    let rows = &state.ops.forwards;
    let header = [
        "LOCAL",
        "TARGET",
        "NAMESPACE",
        "POD",
        "CONNS",
        "SENT",
        "RECEIVED",
        "STATUS",
    ];
    let mut table: Vec<[String; 8]> = vec![header.map(String::from)];
    for r in rows {
        let status = match &r.problem {
            Some(p) => p.clone(),
            None if r.active > 0 => format!("{} open", r.active),
            None => "listening".into(),
        };
        table.push([
            r.local.clone(),
            format!("{} -> {}", r.target, r.remote),
            r.namespace.clone(),
            r.pod.clone(),
            r.connections.to_string(),
            bytes(r.sent),
            bytes(r.received),
            status,
        ]);
    }
    let mut widths = [0usize; 8];
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Numbers align right, as in the tables.
    let line = |row: &[String; 8]| {
        let mut out = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            let cell = if (4..7).contains(&i) {
                format!("{cell:>w$}")
            } else if i == 7 {
                cell.clone()
            } else {
                format!("{cell:<w$}")
            };
            out.push_str(&cell);
            out.push_str("  ");
        }
        out.trim_end().to_string()
    };
    let mut lines = vec![vec![Cell::new(line(&table[0]), Role::Header)]];
    if rows.is_empty() {
        lines.push(vec![Cell::new(
            "no port-forwards: press F on a pod, service or workload",
            Role::Muted,
        )]);
    }
    for (i, (r, cells)) in rows.iter().zip(table.iter().skip(1)).enumerate() {
        let role = match (i == selected, &r.problem) {
            (true, _) => Role::Selection,
            (false, Some(_)) => Role::Warning,
            (false, None) => Role::Text,
        };
        lines.push(vec![Cell::new(line(cells), role)]);
    }
    PaneParts {
        title: format!("PortForwards[{}]", rows.len()),
        lines,
        scroll: 0,
        keys: vec![(Action::Delete, "stop"), (Action::Back, "back")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::watch::WatchMsg;
    use crate::cluster::{Cache, Kind};
    use crate::input::keymap::Keymap;
    use crate::oncall::OpsMsg;
    use crate::test_support::{now, resize, rollout_cluster};
    use crate::update::{Msg, update};
    use kubedeck_core::portforward::RemotePort;

    struct T {
        state: AppState,
        cache: Cache,
        keymap: Keymap,
    }

    impl T {
        /// The pods view of the rollout cluster, a web pod selected.
        fn new(readonly: bool) -> T {
            let mut t = T {
                state: AppState::new("kind-dev", None, readonly),
                cache: rollout_cluster(),
                keymap: Keymap::built_in_default(),
            };
            t.msg(resize(30));
            t.key("1");
            t.msg(Msg::Watch(WatchMsg::Synced(Kind::Pod)));
            t
        }

        fn msg(&mut self, msg: Msg) -> Updated {
            update(&mut self.state, msg, &self.cache, &self.keymap, now())
        }

        fn key(&mut self, k: &str) -> Updated {
            self.msg(Msg::Key(k.parse().expect("test key parses")))
        }

        fn selected_pod(&self) -> String {
            self.state
                .screen()
                .selected_key()
                .expect("a pod row")
                .1
                .clone()
        }
    }

    #[test]
    fn read_only_refuses_a_forward_and_audits_it() {
        let mut t = T::new(true);
        let pod = t.selected_pod();
        let out = t.key("F");
        let (text, _) = t.state.message.clone().expect("a message");
        assert_eq!(
            text,
            "refused: context kind-dev is read-only, and a port-forward opens a connection into a pod; nothing was started"
        );
        assert_eq!(
            out.effects,
            vec![Effect::AuditReadonlyRefusal {
                namespace: "demo".into(),
                object: format!("pod/{pod}"),
                action: "port-forward".into(),
            }]
        );
    }

    #[test]
    fn the_form_offers_the_spec_ports_and_starts_the_forward() {
        let mut t = T::new(false);
        let pod = t.selected_pod();
        let out = t.key("F");
        let target = Target {
            kind: TargetKind::Pod,
            namespace: "demo".into(),
            name: pod.clone(),
        };
        let [Effect::Ops(OpsEffect::InspectPortForward { id, target: asked })] =
            out.effects.as_slice()
        else {
            panic!("expected the ports to be read: {:?}", out.effects);
        };
        assert_eq!(asked, &target);
        let offers = vec![Offer {
            port: 8080,
            label: "http, container web".into(),
        }];
        t.msg(Msg::Ops(OpsMsg::PortForwardPorts {
            id: *id,
            result: Ok(offers),
        }));
        let Some(Dialog::Form(form)) = &t.state.dialog else {
            panic!("expected the form");
        };
        assert_eq!(form.fields[0].value, "8080 (http, container web)");
        assert_eq!(form.fields[1].value, "8080");
        let out = t.key("enter");
        assert_eq!(
            out.effects,
            vec![Effect::Ops(OpsEffect::StartPortForward {
                target,
                spec: PortSpec {
                    local: 8080,
                    remote: RemotePort::Number(8080),
                },
            })]
        );
        assert!(t.state.dialog.is_none());
    }

    #[test]
    fn pf_lists_the_forwards_and_ctrl_d_stops_the_selected_one() {
        let mut t = T::new(false);
        t.key(":");
        for c in ["p", "f"] {
            t.key(c);
        }
        t.key("enter");
        let row = ForwardRow {
            id: 7,
            target: "svc/web".into(),
            namespace: "demo".into(),
            local: "127.0.0.1:8080".into(),
            remote: "80".into(),
            pod: "web-1:8080".into(),
            sent: 78,
            received: 1536,
            connections: 1,
            active: 0,
            problem: None,
        };
        t.msg(Msg::Ops(OpsMsg::Forwards(vec![row])));
        let parts = pane(&t.state, 0);
        assert_eq!(parts.title, "PortForwards[1]");
        let line = &parts.lines[1][0].text;
        for cell in [
            "127.0.0.1:8080",
            "svc/web -> 80",
            "web-1:8080",
            "78B",
            "1.5KiB",
            "listening",
        ] {
            assert!(line.contains(cell), "{line}");
        }
        let out = t.key("ctrl-d");
        assert_eq!(
            out.effects,
            vec![Effect::Ops(OpsEffect::StopPortForward { id: 7 })]
        );
    }

    #[test]
    fn traffic_is_shown_in_binary_units() {
        assert_eq!(bytes(78), "78B");
        assert_eq!(bytes(1536), "1.5KiB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0MiB");
    }
}
