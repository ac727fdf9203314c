//! A shell in a container and one-shot `:exec`, from `update`'s side:
//! `shell` on a pod or container row asks the runtime for a shell (it
//! hands the terminal over and takes it back, see `run::shell`); on a
//! workload row it scales, as `s` does in k9s. `:exec CMD` runs CMD in the
//! selected container and shows its output in a pane. The gate (read-only,
//! RBAC, audit) is the core's, in `kubedeck_core::exec::start`.

use chrono::{DateTime, Utc};

use super::cluster::Cache;
use super::input::action::{Action, View};
use super::state::{AppState, Body};
use super::theme::Role;
use super::update::{Effect, Updated};
use super::views::Scope;
use super::views::describe::TextPane;
use super::views::pods;
use super::xray::tree;
use kubedeck_core::exec::{Captured, Target};

/// The container kubectl picks when none is named.
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// The container of the selected pod or container row.
fn target(state: &AppState, cache: &Cache) -> Option<Target> {
    let screen = state.screen();
    if screen.panel().is_some() || screen.text().is_some() {
        return None;
    }
    let (ns, key) = screen.selected_key()?.clone();
    match (screen.view, &screen.query.scope) {
        (View::Pods, Scope::Pod { .. }) => {
            let (pod, container) = key.split_once('/')?;
            Some(Target::new(&ns, pod, Some(container)))
        }
        (View::Pods, _) => Some(pod_target(cache, &ns, &key)),
        // An owner tree's pod or container node.
        (View::Xray, _) => match tree::segments(&key)?.as_slice() {
            [.., (tree::POD, pod), (tree::CONTAINER, c)] => Some(Target::new(&ns, pod, Some(c))),
            [.., (tree::POD, pod)] => Some(pod_target(cache, &ns, pod)),
            _ => None,
        },
        _ => None,
    }
}

/// A pod's default container, as kubectl picks it: the annotated one, else
/// the first.
fn pod_target(cache: &Cache, ns: &str, name: &str) -> Target {
    let pod = pods::get(cache, &(ns.to_string(), name.to_string()));
    let container = pod.and_then(|p| {
        let named = p
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DEFAULT_CONTAINER).cloned());
        named.or_else(|| Some(p.spec.as_ref()?.containers.first()?.name.clone()))
    });
    Target::new(ns, name, container.as_deref())
}

fn say(state: &mut AppState, text: impl Into<String>, role: Role) -> Updated {
    state.message = Some((text.into(), role));
    Updated::redraw()
}

fn describe(t: &Target) -> String {
    match &t.container {
        Some(c) => format!("container {c} of pod/{}", t.pod),
        None => format!("pod/{}", t.pod),
    }
}

/// `shell`: a shell in the selected container; on a workload, scale.
pub(crate) fn on_shell(state: &mut AppState, cache: &Cache, now: DateTime<Utc>) -> Updated {
    if let Some(t) = target(state, cache) {
        let text = format!("opening a shell in {}…", describe(&t));
        state.message = Some((text, Role::Info));
        return Updated::with(Effect::Shell(t));
    }
    let view = state.screen().view;
    if matches!(view, View::Workloads | View::Xray) && state.screen().text().is_none() {
        return super::act::on_action(state, &Action::Scale, cache, now);
    }
    say(
        state,
        "shell needs a pod or container row: select one in :pods",
        Role::Muted,
    )
}

/// `:exec CMD`, or None when the line is another command.
pub(crate) fn on_command(state: &mut AppState, cache: &Cache, line: &str) -> Option<Updated> {
    let line = line.trim();
    let rest = line.strip_prefix("exec")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let cmd = rest.trim();
    if cmd.is_empty() {
        return Some(say(
            state,
            ":exec CMD runs CMD (through sh -c) in the selected pod or container",
            Role::Warning,
        ));
    }
    let Some(t) = target(state, cache) else {
        return Some(say(
            state,
            ":exec needs a pod or container row: select one in :pods",
            Role::Warning,
        ));
    };
    state.message = Some((format!("running {cmd} in {}…", describe(&t)), Role::Info));
    let command = vec!["sh".to_string(), "-c".to_string(), cmd.to_string()];
    Some(Updated::with(Effect::Exec { target: t, command }))
}

/// The pane of a one-shot command's output, made safe to draw.
pub(crate) fn output_pane(
    t: &Target,
    command: &[String],
    result: Result<Captured, String>,
) -> (String, Vec<String>) {
    let shown = command.last().cloned().unwrap_or_default();
    let mut lines = Vec::new();
    let title = match result {
        Ok(c) => {
            let mut text = String::from_utf8_lossy(&c.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&c.stderr));
            for l in text.lines() {
                lines.push(kubedeck_core::terminal::safe(l).into_owned());
            }
            if c.dropped > 0 {
                lines.push(format!("# {} more bytes not shown", c.dropped));
            }
            if lines.is_empty() {
                lines.push("# no output".to_string());
            }
            format!("exec {shown} in {} — {}", describe(t), c.ended)
        }
        Err(e) => {
            lines.push(kubedeck_core::terminal::safe(&e).into_owned());
            format!("exec {shown} in {} — not run", describe(t))
        }
    };
    (kubedeck_core::terminal::safe(&title).into_owned(), lines)
}

/// Shows a one-shot command's output over the current screen.
pub(crate) fn on_output(state: &mut AppState, title: String, lines: Vec<String>) -> Updated {
    state.message = None;
    let pane = TextPane {
        title,
        lines,
        scroll: 0,
        loading: None,
        awaiting_events: None,
        tail: Vec::new(),
    };
    state.push_over("exec", Body::Text(pane));
    Updated::redraw()
}

/// Says how a shell ended, once the console has the terminal again.
pub(crate) fn on_shell_ended(state: &mut AppState, text: String, ok: bool) -> Updated {
    let role = if ok { Role::Info } else { Role::Warning };
    say(state, text, role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Kind;
    use crate::input::keymap::Keymap;
    use crate::state::Screen;
    use crate::test_support::{cluster, now, resize};
    use crate::update::{Msg, update};
    use crate::views::Query;
    use kubedeck_core::exec::Ended;

    struct T {
        state: AppState,
        cache: Cache,
        keymap: Keymap,
    }

    impl T {
        fn on(view: View) -> T {
            let mut state = AppState::new("kind-dev", None, false);
            state.stack = vec![Screen::new(view, Query::default(), "here")];
            let mut t = T {
                state,
                cache: cluster(),
                keymap: Keymap::built_in_default(),
            };
            t.msg(resize(40));
            for kind in [Kind::Pod, Kind::Deployment] {
                t.msg(Msg::Watch(crate::cluster::watch::WatchMsg::Synced(kind)));
            }
            t
        }

        fn msg(&mut self, msg: Msg) -> Updated {
            update(&mut self.state, msg, &self.cache, &self.keymap, now())
        }

        fn key(&mut self, k: &str) -> Updated {
            self.msg(Msg::Key(k.parse().expect("test key parses")))
        }
    }

    #[test]
    fn s_on_a_pod_asks_for_a_shell_in_its_container() {
        let mut t = T::on(View::Pods);
        let (ns, pod) = t.state.screen().selected_key().cloned().expect("a pod row");
        let out = t.key("s");
        match out.effects.as_slice() {
            [Effect::Shell(target)] => {
                assert_eq!((&target.namespace, &target.pod), (&ns, &pod));
                assert!(target.container.is_some(), "{target:?}");
            }
            other => panic!("expected a shell, got {other:?}"),
        }
    }

    #[test]
    fn s_on_a_container_row_asks_for_a_shell_in_that_container() {
        let mut t = T::on(View::Pods);
        let (_, pod) = t.state.screen().selected_key().cloned().expect("a pod row");
        t.key("enter");
        let (_, key) = t
            .state
            .screen()
            .selected_key()
            .cloned()
            .expect("a container row");
        let out = t.key("s");
        match out.effects.as_slice() {
            [Effect::Shell(target)] => {
                assert_eq!(target.pod, pod);
                assert_eq!(
                    format!(
                        "{}/{}",
                        target.pod,
                        target.container.as_deref().unwrap_or("")
                    ),
                    key
                );
            }
            other => panic!("expected a shell, got {other:?}"),
        }
    }

    #[test]
    fn s_on_a_workload_scales_as_in_k9s() {
        let mut t = T::on(View::Workloads);
        let out = t.key("s");
        assert!(out.effects.is_empty(), "{:?}", out.effects);
        assert!(t.state.dialog.is_some(), "the scale form opens");
    }

    #[test]
    fn colon_exec_runs_the_line_through_sh_in_the_selected_pod() {
        let mut t = T::on(View::Pods);
        let (_, pod) = t.state.screen().selected_key().cloned().expect("a pod row");
        let out = on_command(&mut t.state, &t.cache, "exec ls -l /tmp | wc -l").expect("ours");
        match out.effects.as_slice() {
            [Effect::Exec { target, command }] => {
                assert_eq!(target.pod, pod);
                assert_eq!(command, &["sh", "-c", "ls -l /tmp | wc -l"]);
            }
            other => panic!("expected an exec, got {other:?}"),
        }
        assert!(on_command(&mut t.state, &t.cache, "execute").is_none());
        let mut w = T::on(View::Workloads);
        let out = on_command(&mut w.state, &w.cache, "exec ls").expect("ours");
        assert!(out.effects.is_empty());
        assert!(
            w.state
                .message
                .as_ref()
                .is_some_and(|(m, _)| m.contains("pod or container row"))
        );
    }

    #[test]
    fn exec_output_is_made_safe_to_draw() {
        let t = Target::new("demo", "web-1", Some("web"));
        let captured = Captured {
            stdout: b"ok\x1b]0;pwned\x07\n\x1b[2Jdone\n".to_vec(),
            stderr: Vec::new(),
            dropped: 0,
            ended: Ended::Exited(2),
        };
        let (title, lines) = output_pane(&t, &["sh".into(), "-c".into(), "x".into()], Ok(captured));
        assert_eq!(lines, ["ok", "done"]);
        assert_eq!(title, "exec x in container web of pod/web-1 — exit code 2");
    }
}
