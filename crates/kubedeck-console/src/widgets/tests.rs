//! Snapshot tests: each view drawn at 120x30 from the deterministic test
//! cluster. insta keeps the text; the colour of key cells is asserted on
//! the buffer directly.

use ratatui::buffer::Buffer;

use crate::cluster::watch::WatchMsg;
use crate::cluster::{Cache, Kind};
use crate::input::keymap::Keymap;
use crate::state::AppState;
use crate::test_support::{cluster, draw, fg_of, now, resize, screen_text};
use crate::theme::{Role, Theme};
use crate::update::{Msg, update};

struct Console {
    state: AppState,
    cache: Cache,
    keymap: Keymap,
}

impl Console {
    fn new() -> Console {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("kind-test", None, false);
        update(&mut state, resize(30), &cache, &keymap, now());
        update(
            &mut state,
            Msg::Watch(WatchMsg::Synced(Kind::Pod)),
            &cache,
            &keymap,
            now(),
        );
        Console {
            state,
            cache,
            keymap,
        }
    }

    /// The rollout cluster (demo/web stuck on an image that cannot be
    /// pulled) in `context`, on the workloads view.
    fn rollout(context: &str) -> Console {
        let cache = crate::test_support::rollout_cluster();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new(context, None, false);
        update(&mut state, resize(30), &cache, &keymap, now());
        let mut c = Console {
            state,
            cache,
            keymap,
        };
        c.keys(&["2"]);
        c
    }

    /// Presses `key`, and answers the plan it asks for as the runtime
    /// would: consequences from plan.rs over the cached objects.
    fn planned(&mut self, key: &str) -> &mut Console {
        use crate::update::Effect;
        use crate::views::as_json;
        use kubedeck_core::actions::plan::{Snapshot, consequences};
        use kubedeck_core::actions::{Confirmation, Permission};
        let out = update(
            &mut self.state,
            Msg::Key(key.parse().expect("test key parses")),
            &self.cache,
            &self.keymap,
            now(),
        );
        let Some(Effect::Plan { id, command }) = out.effects.into_iter().next() else {
            panic!("{key} asks for no plan");
        };
        let c = &self.cache;
        let name = command.object_name().to_string();
        let target = match command {
            kubedeck_core::actions::Command::DeletePod { .. }
            | kubedeck_core::actions::Command::EvictPod { .. } => c
                .pods
                .state()
                .iter()
                .find(|p| p.metadata.name.as_deref() == Some(name.as_str()))
                .and_then(|p| as_json(p.as_ref())),
            _ => c
                .deployments
                .state()
                .iter()
                .find(|d| d.metadata.name.as_deref() == Some(name.as_str()))
                .and_then(|d| as_json(d.as_ref())),
        }
        .unwrap_or_default();
        let snap = Snapshot {
            target,
            pods: c
                .pods
                .state()
                .iter()
                .filter_map(|p| as_json(p.as_ref()))
                .collect(),
            services: c
                .services
                .state()
                .iter()
                .filter_map(|s| as_json(s.as_ref()))
                .collect(),
            hpas: c
                .hpas
                .state()
                .iter()
                .filter_map(|h| as_json(h.as_ref()))
                .collect(),
            ..Snapshot::default()
        };
        let consequences = consequences(&command, &snap);
        let confirmation = Confirmation::new(
            command,
            &self.state.context,
            &kubedeck_core::config::Config::default(),
            consequences,
        );
        update(
            &mut self.state,
            Msg::Planned {
                id,
                result: Ok(confirmation),
                permission: Permission::Allowed,
            },
            &self.cache,
            &self.keymap,
            now(),
        );
        self
    }

    fn keys(&mut self, keys: &[&str]) -> &mut Console {
        for k in keys {
            let key = k.parse().expect("test key parses");
            update(
                &mut self.state,
                Msg::Key(key),
                &self.cache,
                &self.keymap,
                now(),
            );
        }
        self
    }

    fn command(&mut self, line: &str) -> &mut Console {
        self.keys(&[":"]);
        for c in line.chars() {
            let k = if c == ' ' {
                "space".to_string()
            } else {
                c.to_string()
            };
            self.keys(&[&k]);
        }
        self.keys(&["enter"])
    }

    fn draw(&self) -> Buffer {
        draw(&self.state, &self.cache, &self.keymap, 120, 30)
    }
}

fn danger() -> ratatui::style::Color {
    let (theme, _) = Theme::load(None, None, false);
    theme
        .style(Role::Danger)
        .fg
        .expect("the danger role has a colour")
}

#[test]
fn overview() {
    let buf = Console::new().draw();
    insta::assert_snapshot!("overview", screen_text(&buf));
    assert_eq!(fg_of(&buf, "1 ok, 1 degraded"), danger());
}

#[test]
fn pods() {
    let buf = Console::new().keys(&["1"]).draw();
    insta::assert_snapshot!("pods", screen_text(&buf));
    assert_eq!(fg_of(&buf, "Error 1 (CrashLoop"), danger());
}

#[test]
fn workloads() {
    let buf = Console::new().keys(&["2"]).draw();
    insta::assert_snapshot!("workloads", screen_text(&buf));
    assert_eq!(fg_of(&buf, "Stalled"), danger());
}

#[test]
fn services() {
    let buf = Console::new().keys(&["3"]).draw();
    insta::assert_snapshot!("services", screen_text(&buf));
    assert_eq!(fg_of(&buf, "0/1"), danger(), "zero ready endpoints");
}

#[test]
fn hpas_with_the_why_pane() {
    let buf = Console::new().keys(&["4", "j"]).draw();
    insta::assert_snapshot!("hpas", screen_text(&buf));
    assert_eq!(fg_of(&buf, "FailedGetResourceMetric"), danger());
}

#[test]
fn events() {
    let buf = Console::new().keys(&["5"]).draw();
    insta::assert_snapshot!("events", screen_text(&buf));
}

#[test]
fn namespaces_jobs_cronjobs_nodes() {
    let mut c = Console::new();
    insta::assert_snapshot!("namespaces", screen_text(&c.command("ns").draw()));
    insta::assert_snapshot!("jobs", screen_text(&c.command("jobs").draw()));
    insta::assert_snapshot!("cronjobs", screen_text(&c.command("cj").draw()));
    let nodes = c.command("nodes").draw();
    insta::assert_snapshot!("nodes", screen_text(&nodes));
    assert_eq!(fg_of(&nodes, "NotReady"), danger());
}

#[test]
fn drill_down_to_containers_shows_the_breadcrumb() {
    let mut c = Console::new();
    c.command("svc").keys(&["j", "enter", "enter"]);
    insta::assert_snapshot!("pods_of_api", screen_text(&c.draw()));
    let buf = c.keys(&["enter"]).draw();
    insta::assert_snapshot!("containers", screen_text(&buf));
}

#[test]
fn describe_pane() {
    let buf = Console::new().keys(&["4", "j", "d"]).draw();
    insta::assert_snapshot!("describe_hpa", screen_text(&buf));
}

#[test]
fn the_log_pane_sits_under_a_shorter_table() {
    let buf = Console::new().keys(&["1", "ctrl-l"]).draw();
    let lines: Vec<String> = screen_text(&buf).lines().map(str::to_string).collect();
    // 30 rows: the pane takes a third, from row 19 to the status line.
    assert!(
        lines[19].starts_with("┌ kubedeck log  <ctrl-l> hides "),
        "{}",
        lines[19]
    );
    assert!(lines[18].starts_with("└"), "the table ends above the pane");
    assert!(lines[28].starts_with("└"));
    assert!(lines[29].starts_with("<:> command"));
    assert!(
        lines.iter().any(|l| l.contains("web-7d4b9c8f6d-x2x4k")),
        "the table still lists the pods"
    );
}

#[test]
fn scale_form_and_confirm_under_an_hpa() {
    let mut c = Console::rollout("kind-dev");
    insta::assert_snapshot!("scale_form_hpa", screen_text(&c.keys(&["s"]).draw()));
    c.keys(&["backspace", "0"]);
    let buf = c.planned("enter").draw();
    insta::assert_snapshot!("confirm_scale_hpa", screen_text(&buf));
    assert_eq!(fg_of(&buf, "2 of 2 ready pods will be killed"), text_fg());
}

#[test]
fn confirm_delete_with_consequences() {
    let mut c = Console::rollout("kind-dev");
    c.command("pods");
    let buf = c.keys(&["ctrl-d", "tab", "3", "0"]).planned("enter").draw();
    insta::assert_snapshot!("confirm_delete", screen_text(&buf));
}

#[test]
fn confirm_in_a_protected_context_asks_for_the_name() {
    let mut c = Console::rollout("gke_prod-eu");
    c.command("pods");
    let buf = c.planned("ctrl-k").keys(&["w", "e", "b", "enter"]).draw();
    insta::assert_snapshot!("confirm_protected", screen_text(&buf));
    assert_eq!(fg_of(&buf, "typed \"web\""), danger());
}

#[test]
fn revision_history_with_the_template_diff() {
    let buf = Console::rollout("kind-dev").keys(&["u"]).draw();
    insta::assert_snapshot!("history", screen_text(&buf));
    assert_eq!(
        fg_of(&buf, "-   - image: registry.example/web:notfound"),
        danger()
    );
}

#[test]
fn rollout_progress_stalled_with_its_reason() {
    let buf = Console::rollout("kind-dev").keys(&["o"]).draw();
    insta::assert_snapshot!("rollout_stalled", screen_text(&buf));
    assert_eq!(fg_of(&buf, "STALLED: ImagePullBackOff"), danger());
}

fn text_fg() -> ratatui::style::Color {
    let (theme, _) = Theme::load(None, None, false);
    theme
        .style(Role::Text)
        .fg
        .unwrap_or(ratatui::style::Color::Reset)
}

#[test]
fn the_wide_key_shows_every_column_and_left_right_scroll_it() {
    let mut c = Console::new();
    let fitted = screen_text(&c.keys(&["1"]).draw());
    assert!(
        fitted.contains("+1 more <ctrl-w> wide") && !fitted.contains("10.244.0.18"),
        "{fitted}"
    );
    let wide = screen_text(&c.keys(&["ctrl-w"]).draw());
    assert!(wide.contains("Pods(all)[5] wide ←→ 1/10"), "{wide}");
    assert!(wide.contains("10.244.0.18"), "IP shows: {wide}");
    let scrolled = screen_text(&c.keys(&["right", "right"]).draw());
    let header = scrolled.lines().nth(3).unwrap_or_default();
    assert!(header.starts_with("│READY  STATUS"), "{scrolled}");
    let back = screen_text(&c.keys(&["left", "ctrl-w"]).draw());
    assert_eq!(back, fitted, "ctrl-w again: the fitted layout");
}
