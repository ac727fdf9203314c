//! Snapshot tests: each view drawn at 120x30 from the deterministic test
//! cluster. insta keeps the text; the colour of key cells is asserted on
//! the buffer directly.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::console::cluster::watch::WatchMsg;
use crate::console::cluster::{Cache, Kind};
use crate::console::input::keymap::Keymap;
use crate::console::state::AppState;
use crate::console::test_support::{cluster, now};
use crate::console::theme::{Role, Theme};
use crate::console::update::{Msg, update};
use crate::console::view_model;

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
        update(&mut state, Msg::Resize(30), &cache, &keymap, now());
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
        let (theme, errs) = Theme::load(None, None, false);
        assert!(errs.is_empty());
        let vm = view_model::build(&self.state, &self.cache, &self.keymap, now());
        let mut terminal = Terminal::new(TestBackend::new(120, 30)).expect("test terminal");
        terminal
            .draw(|f| super::draw(f, &vm, &theme))
            .expect("draws");
        terminal.backend().buffer().clone()
    }
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The foreground colour where `needle` is first drawn.
fn fg_of(buf: &Buffer, needle: &str) -> ratatui::style::Color {
    let area = buf.area;
    for y in 0..area.height {
        let row: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
        if let Some(col) = row.find(needle) {
            // Columns count characters, not bytes.
            let x = row[..col].chars().count() as u16;
            return buf[(x, y)].fg;
        }
    }
    panic!("{needle:?} is not on screen:\n{}", text(buf));
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
    insta::assert_snapshot!("overview", text(&buf));
    assert_eq!(fg_of(&buf, "1 ok, 1 degraded"), danger());
}

#[test]
fn pods() {
    let buf = Console::new().keys(&["1"]).draw();
    insta::assert_snapshot!("pods", text(&buf));
    assert_eq!(fg_of(&buf, "CrashLoopBackOff"), danger());
}

#[test]
fn workloads() {
    let buf = Console::new().keys(&["2"]).draw();
    insta::assert_snapshot!("workloads", text(&buf));
    assert_eq!(fg_of(&buf, "Stalled"), danger());
}

#[test]
fn services() {
    let buf = Console::new().keys(&["3"]).draw();
    insta::assert_snapshot!("services", text(&buf));
    assert_eq!(fg_of(&buf, "0/1"), danger(), "zero ready endpoints");
}

#[test]
fn hpas_with_the_why_pane() {
    let buf = Console::new().keys(&["4", "j"]).draw();
    insta::assert_snapshot!("hpas", text(&buf));
    assert_eq!(fg_of(&buf, "FailedGetResourceMetric"), danger());
}

#[test]
fn events() {
    let buf = Console::new().keys(&["5"]).draw();
    insta::assert_snapshot!("events", text(&buf));
}

#[test]
fn namespaces_jobs_cronjobs_nodes() {
    let mut c = Console::new();
    insta::assert_snapshot!("namespaces", text(&c.command("ns").draw()));
    insta::assert_snapshot!("jobs", text(&c.command("jobs").draw()));
    insta::assert_snapshot!("cronjobs", text(&c.command("cj").draw()));
    let nodes = c.command("nodes").draw();
    insta::assert_snapshot!("nodes", text(&nodes));
    assert_eq!(fg_of(&nodes, "NotReady"), danger());
}

#[test]
fn drill_down_to_containers_shows_the_breadcrumb() {
    let mut c = Console::new();
    c.command("svc").keys(&["j", "enter", "enter"]);
    insta::assert_snapshot!("pods_of_api", text(&c.draw()));
    let buf = c.keys(&["enter"]).draw();
    insta::assert_snapshot!("containers", text(&buf));
}

#[test]
fn describe_pane() {
    let buf = Console::new().keys(&["4", "j", "d"]).draw();
    insta::assert_snapshot!("describe_hpa", text(&buf));
}

#[test]
fn the_log_pane_sits_under_a_shorter_table() {
    let buf = Console::new().keys(&["1", "ctrl-l"]).draw();
    let lines: Vec<String> = text(&buf).lines().map(str::to_string).collect();
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
