//! The log view's key handling and drawing, without a cluster: lines are
//! fed in as the runtime would.

use std::sync::Arc;

use ratatui::buffer::Buffer;

use super::*;
use crate::cluster::Kind;
use crate::cluster::watch::WatchMsg;
use crate::input::action::View;
use crate::test_support::{cluster, draw, now, resize, screen_text};
use crate::theme::Theme;
use crate::update::{Msg, update};
use crate::view_model;
use crate::views::Cell;
use kubedeck_core::logs::{LineKind, StatusKind};

struct Console {
    state: AppState,
    cache: Cache,
    keymap: Keymap,
    effects: Vec<Effect>,
}

impl Console {
    /// The test cluster on the workloads view, at `height` rows.
    fn new(height: u16) -> Console {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("kind-test", None, false);
        update(&mut state, resize(height), &cache, &keymap, now());
        let mut c = Console {
            state,
            cache,
            keymap,
            effects: Vec::new(),
        };
        c.msg(Msg::Watch(WatchMsg::Synced(Kind::Pod)));
        c.keys(&["2"]);
        c
    }

    fn msg(&mut self, msg: Msg) -> bool {
        let out = update(&mut self.state, msg, &self.cache, &self.keymap, now());
        self.effects.extend(out.effects);
        out.redraw
    }

    fn keys(&mut self, keys: &[&str]) -> &mut Console {
        for k in keys {
            self.msg(Msg::Key(k.parse().expect("test key parses")));
        }
        self
    }

    fn type_text(&mut self, text: &str) -> &mut Console {
        for c in text.chars() {
            let k = if c == ' ' {
                "space".to_string()
            } else {
                c.to_string()
            };
            self.keys(&[&k]);
        }
        self
    }

    fn select(&mut self, name: &str) -> &mut Console {
        let screen = self.state.screen_mut();
        screen.selected = screen
            .rows
            .iter()
            .position(|k| k.1 == name)
            .unwrap_or_else(|| panic!("{name} is listed in {:?}", screen.rows));
        self
    }

    /// Opens the logs of shop's web Deployment.
    fn open_web(height: u16) -> Console {
        let mut c = Console::new(height);
        c.select("Deployment/web").keys(&["l"]);
        c
    }

    fn view(&self) -> &LogView {
        self.state.logs.as_ref().expect("the log view is open")
    }

    fn stream(&self) -> u64 {
        self.view().stream
    }

    fn feed(&mut self, lines: &[(&str, &str)]) -> bool {
        let lines = lines.iter().map(|(pod, text)| line(pod, text)).collect();
        self.msg(Msg::LogLines {
            stream: self.stream(),
            lines,
        })
    }

    fn shown(&self) -> Vec<String> {
        let vm = view_model::build(&self.state, &self.cache, &self.keymap, now());
        vm.logview
            .expect("the log view is in the view model")
            .lines
            .iter()
            .map(|cells| cells.iter().map(|c| c.text.as_str()).collect())
            .collect()
    }

    fn title(&self) -> String {
        let vm = view_model::build(&self.state, &self.cache, &self.keymap, now());
        vm.logview.expect("the log view is drawn").title
    }

    fn message(&self) -> String {
        self.state
            .message
            .as_ref()
            .map_or(String::new(), |(m, _)| m.clone())
    }

    fn last_open(&self) -> (u64, LogSource, StreamOptions) {
        self.effects
            .iter()
            .rev()
            .find_map(|e| match e {
                Effect::OpenLogs {
                    stream,
                    target,
                    options,
                } => Some((*stream, target.clone(), options.clone())),
                _ => None,
            })
            .expect("a stream was opened")
    }

    fn draw(&self, width: u16, height: u16) -> Buffer {
        draw(&self.state, &self.cache, &self.keymap, width, height)
    }
}

fn line(pod: &str, text: &str) -> LogLine {
    LogLine {
        pod: Arc::from(pod),
        container: Arc::from("web"),
        time: Some(now()),
        text: text.to_string(),
        kind: LineKind::Log,
    }
}

const POD_A: &str = "web-7d4b9c8f6d-x2x4k";
const POD_B: &str = "web-7d4b9c8f6d-q9z7m";

#[test]
fn l_on_a_workload_streams_all_its_pods_and_esc_goes_back_to_the_table() {
    let mut c = Console::open_web(20);
    let (stream, target, options) = c.last_open();
    assert_eq!(
        target,
        LogSource::Workload {
            namespace: "shop".into(),
            kind: WorkloadKind::Deployment,
            name: "web".into()
        }
    );
    assert_eq!(stream, c.stream());
    assert!(options.follow && !options.previous);
    assert_eq!(options.containers, Containers::All);
    assert_eq!(options.tail_lines, Some(200));
    c.feed(&[(POD_A, "GET / 200"), (POD_B, "GET /cart 200")]);
    assert_eq!(
        c.shown(),
        [
            format!("{POD_A} GET / 200"),
            format!("{POD_B} GET /cart 200")
        ]
    );
    let vm = view_model::build(&c.state, &c.cache, &c.keymap, now());
    assert_eq!(
        vm.breadcrumb.last().map(String::as_str),
        Some("logs deploy/web")
    );
    assert!(vm.status.0.contains("<space> pause"), "{:?}", vm.status);

    c.effects.clear();
    c.keys(&["esc"]);
    assert!(c.state.logs.is_none());
    assert_eq!(c.effects, vec![Effect::CloseLogs]);
    assert_eq!(c.state.screen().view, View::Workloads);
    assert_eq!(
        c.state.screen().selected_key().map(|k| k.1.as_str()),
        Some("Deployment/web")
    );
}

#[test]
fn l_on_a_container_row_streams_that_container_and_c_cycles() {
    let mut c = Console::new(20);
    c.keys(&["1"]).select(POD_A).keys(&["enter"]);
    c.select(&format!("{POD_A}/web")).keys(&["l"]);
    let (_, target, options) = c.last_open();
    assert_eq!(
        target,
        LogSource::Pod {
            namespace: "shop".into(),
            name: POD_A.into()
        }
    );
    assert_eq!(options.containers, Containers::One("web".into()));
    assert_eq!(c.view().title, format!("pod/{POD_A}"));
    // One pod: no pod prefix on its lines.
    c.feed(&[(POD_A, "ready")]);
    assert_eq!(c.shown(), ["ready"]);
    let opened = c.effects.len();
    c.keys(&["c"]);
    assert_eq!(c.effects.len(), opened, "one container: nothing to cycle");
    assert_eq!(c.message(), "web is the only container");
}

#[test]
fn a_service_streams_its_pods_and_an_event_has_no_logs() {
    let mut c = Console::new(20);
    c.keys(&["3"]).select("web").keys(&["l"]);
    let (_, target, _) = c.last_open();
    assert_eq!(
        target,
        LogSource::Workload {
            namespace: "shop".into(),
            kind: WorkloadKind::Service,
            name: "web".into()
        }
    );
    let mut c = Console::new(20);
    c.keys(&["5", "l"]);
    assert!(c.state.logs.is_none());
    assert!(c.message().contains("has no logs"), "{}", c.message());
}

#[test]
fn search_highlights_jumps_to_the_newest_match_and_n_wraps_around() {
    let mut c = Console::open_web(12);
    let rows = rows(&c.state);
    let mut lines: Vec<(String, String)> = Vec::new();
    for i in 0..40 {
        let text = if i % 10 == 3 {
            format!("error {i}: connection refused")
        } else {
            format!("GET /item/{i} 200")
        };
        lines.push((POD_A.into(), text));
    }
    let refs: Vec<(&str, &str)> = lines
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    c.feed(&refs);
    c.keys(&["/"]).type_text("error").keys(&["enter"]);
    assert!(!c.view().following(), "a search jump stops following");
    let text_of = |c: &Console, seq: Option<u64>| {
        seq.and_then(|s| c.view().buffer.get(s))
            .map(|l| l.text.clone())
    };
    assert_eq!(
        text_of(&c, c.view().current).as_deref(),
        Some("error 33: connection refused"),
        "from the bottom, the newest match"
    );
    assert!(c.shown().iter().any(|l| l.contains("▶ error 33")));
    c.keys(&["n"]);
    assert_eq!(
        text_of(&c, c.view().current).as_deref(),
        Some("error 3: connection refused"),
        "past the last match n wraps to the first"
    );
    let first = c.view().first_shown(rows);
    assert!(first <= 3 && 3 < first + rows, "the match is in view");
    c.keys(&["N"]);
    assert_eq!(
        text_of(&c, c.view().current).as_deref(),
        Some("error 33: connection refused")
    );
    c.keys(&["N"]);
    assert_eq!(
        text_of(&c, c.view().current).as_deref(),
        Some("error 23: connection refused")
    );
    // The matches are highlight cells; the rest of the line is text.
    let vm = view_model::build(&c.state, &c.cache, &c.keymap, now());
    let cells = vm.logview.expect("drawn").lines;
    let hit = cells
        .iter()
        .flatten()
        .find(|cell| cell.text == "error")
        .expect("a highlighted match");
    assert_eq!(hit.role, Role::Highlight);
    c.keys(&["/"])
        .type_text("nothing-like-this")
        .keys(&["enter"]);
    assert_eq!(c.message(), "no match for nothing-like-this");
}

#[test]
fn a_bad_regex_filter_is_a_message_and_the_lines_stay() {
    let mut c = Console::open_web(20);
    c.feed(&[
        (POD_A, "GET /a 200"),
        (POD_B, "GET /b 503"),
        (POD_A, "GET /c 500"),
    ]);
    c.keys(&["&", "ctrl-r"]).type_text("(5");
    assert!(
        c.message().starts_with("bad regular expression"),
        "{}",
        c.message()
    );
    assert_eq!(c.shown().len(), 3, "an unfinished regex filters nothing");
    c.keys(&["enter"]);
    assert!(
        c.view().prompt.is_some(),
        "Enter on a bad regex keeps the prompt"
    );
    c.type_text(r"0\d)").keys(&["enter"]);
    assert_eq!(c.message(), "");
    assert_eq!(
        c.shown(),
        [format!("{POD_B} GET /b 503"), format!("{POD_A} GET /c 500")]
    );
    assert!(c.title().contains(r#"regex "(50\\d)""#), "{}", c.title());
    // A plain substring filter, then Esc clears it before leaving.
    c.keys(&["&", "ctrl-r"]);
    for _ in 0..6 {
        c.keys(&["backspace"]);
    }
    c.type_text("/a ").keys(&["enter"]);
    assert_eq!(c.shown(), [format!("{POD_A} GET /a 200")]);
    c.keys(&["esc"]);
    assert_eq!(c.shown().len(), 3);
    assert!(
        c.state.logs.is_some(),
        "the first Esc only cleared the filter"
    );
}

#[test]
fn status_lines_pass_the_filter_dimmed() {
    let mut c = Console::open_web(20);
    let mut note = line(POD_B, "reconnecting to web (attempt 2)");
    note.kind = LineKind::Status(StatusKind::Reconnecting);
    c.feed(&[(POD_A, "GET /a 200")]);
    c.msg(Msg::LogLines {
        stream: c.stream(),
        lines: vec![note],
    });
    c.keys(&["&"]).type_text("zzz").keys(&["enter"]);
    let vm = view_model::build(&c.state, &c.cache, &c.keymap, now());
    let lines = vm.logview.expect("drawn").lines;
    assert_eq!(lines.len(), 1);
    let last = lines[0].last().expect("a cell");
    assert_eq!(last.text, "» reconnecting to web (attempt 2)");
    assert_eq!(last.role, Role::Muted);
}

#[test]
fn following_scrolling_and_pause() {
    let mut c = Console::open_web(12);
    let rows = rows(&c.state);
    let texts: Vec<String> = (0..30).map(|i| format!("line {i}")).collect();
    let batch: Vec<(&str, &str)> = texts.iter().map(|t| (POD_A, t.as_str())).collect();
    c.feed(&batch);
    assert!(c.view().following());
    assert!(c.title().ends_with("· following"), "{}", c.title());
    assert_eq!(
        c.shown().last().map(String::as_str),
        Some(&*format!("{POD_A} line 29"))
    );
    c.keys(&["k"]);
    assert!(!c.view().following(), "scrolling up stops following");
    assert_eq!(c.view().first_shown(rows), 30 - rows - 1);
    c.feed(&[(POD_A, "line 30")]);
    assert_eq!(
        c.view().first_shown(rows),
        30 - rows - 1,
        "a scrolled view stays put as lines arrive"
    );
    c.keys(&["j", "j"]);
    assert!(c.view().following(), "scrolling back to the bottom follows");
    c.keys(&["g"]);
    assert_eq!(c.shown()[0], format!("{POD_A} line 0"));
    c.keys(&["f"]);
    assert!(c.view().following());
    c.keys(&["space"]);
    c.feed(&[(POD_A, "line 31"), (POD_A, "line 32")]);
    assert!(c.title().contains("paused, 2 new"), "{}", c.title());
    assert_eq!(
        c.shown().last().map(String::as_str),
        Some(&*format!("{POD_A} line 30"))
    );
    c.keys(&["space"]);
    assert_eq!(
        c.shown().last().map(String::as_str),
        Some(&*format!("{POD_A} line 32"))
    );
    c.keys(&["t"]);
    assert_eq!(
        c.shown().last().map(String::as_str),
        Some(&*format!("{POD_A} 2026-11-24T03:00:00.000Z line 32"))
    );
}

#[test]
fn since_cycles_and_restarts_the_stream_dropping_the_old_ones_lines() {
    let mut c = Console::open_web(20);
    c.keys(&["/"]).type_text("GET").keys(&["enter"]);
    c.feed(&[(POD_A, "GET / 200")]);
    let old = c.stream();
    let mut seen = Vec::new();
    for _ in 0..RANGES.len() {
        c.keys(&["s"]);
        let (stream, _, options) = c.last_open();
        seen.push((options.tail_lines, options.since));
        assert!(stream > old);
    }
    assert_eq!(
        seen,
        [
            (Some(1000), Since::Start),
            (None, Since::Seconds(300)),
            (None, Since::Seconds(3600)),
            (None, Since::Start),
            (Some(200), Since::Start),
        ]
    );
    assert!(c.shown().is_empty(), "a restart starts an empty buffer");
    assert!(
        !c.msg(Msg::LogLines {
            stream: old,
            lines: vec![line(POD_A, "late line of the old stream")],
        }),
        "the old stream's lines are dropped"
    );
    assert!(c.shown().is_empty());
    assert_eq!(
        c.view().buffer.search().map(|p| p.as_str()),
        Some("GET"),
        "the search survives a restart"
    );
    c.keys(&["P"]);
    let (_, _, options) = c.last_open();
    assert!(options.previous);
    assert!(c.title().contains(" previous"), "{}", c.title());
}

#[test]
fn ctrl_s_asks_the_runtime_to_save_a_copy() {
    let mut c = Console::open_web(20);
    c.feed(&[(POD_A, "GET / 200"), (POD_B, "GET /x 500")]);
    c.keys(&["ctrl-s"]);
    let saved = c.effects.iter().find_map(|e| match e {
        Effect::SaveLogs {
            buffer, file_name, ..
        } => Some((buffer.len(), file_name.clone())),
        _ => None,
    });
    assert_eq!(saved, Some((2, "deploy_web-20261124-030000.log".into())));
    c.msg(Msg::LogsSaved(Ok("saved 2 lines to /tmp/x.log".into())));
    let vm = view_model::build(&c.state, &c.cache, &c.keymap, now());
    assert_eq!(vm.status, ("saved 2 lines to /tmp/x.log".into(), Role::Ok));
}

#[test]
fn q_quits_even_from_the_log_view_but_not_from_its_prompt() {
    let mut c = Console::open_web(20);
    c.keys(&["&"]).type_text("q");
    assert!(!c.state.quit);
    assert_eq!(c.view().prompt.as_ref().map(|p| p.text.as_str()), Some("q"));
    c.keys(&["enter", "q"]);
    assert!(c.state.quit);
    assert!(c.effects.contains(&Effect::Quit));
}

#[test]
fn help_lists_the_log_keys() {
    let mut c = Console::open_web(40);
    c.keys(&["?"]);
    let vm = view_model::build(&c.state, &c.cache, &c.keymap, now());
    let help = vm.help.expect("help is shown");
    for (keys, what) in [
        ("&", "logs: keep only matching lines"),
        ("n", "logs: next match"),
        ("space", "logs: pause or resume"),
        ("ctrl-s", "logs: save to a file"),
        ("esc", "go back"),
    ] {
        assert!(
            help.entries().any(|(k, w)| k == keys && w == what),
            "{keys} {what} in {help:?}"
        );
    }
    assert!(
        !help.entries().any(|(_, w)| w == "describe"),
        "no table keys"
    );
}

#[test]
fn wrapping_keeps_styles_and_the_newest_row_in_view() {
    let cells = vec![
        Cell::new("pod ", Role::LogPod1),
        Cell::text("abcdef"),
        Cell::new("XY", Role::Highlight),
    ];
    let rows = widget::wrap(&cells, 5);
    let shape: Vec<Vec<(&str, Role)>> = rows
        .iter()
        .map(|r| r.iter().map(|c| (c.text.as_str(), c.role)).collect())
        .collect();
    assert_eq!(
        shape,
        [
            vec![("pod ", Role::LogPod1), ("a", Role::Text)],
            vec![("bcdef", Role::Text)],
            vec![("XY", Role::Highlight)],
        ]
    );
}

/// The cells on screen where `needle` is drawn, on its first row.
fn cells_of(buf: &Buffer, needle: &str) -> Vec<(u16, u16)> {
    for y in 0..buf.area.height {
        let row: Vec<&str> = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let text: String = row.concat();
        if let Some(at) = text.find(needle) {
            let x = text[..at].chars().count() as u16;
            return (x..x + needle.chars().count() as u16)
                .map(|x| (x, y))
                .collect();
        }
    }
    panic!("{needle:?} is not on screen:\n{}", screen_text(buf));
}

#[test]
fn snapshot_of_a_workloads_log_with_pod_colours_and_search_highlights() {
    let mut c = Console::open_web(16);
    let mut joined = line(POD_B, "web-7d4b9c8f6d-q9z7m/web joined");
    joined.kind = LineKind::Status(StatusKind::Joined);
    c.feed(&[
        (POD_A, "starting server version=1.0"),
        (POD_A, "GET /api/orders 200 12ms"),
    ]);
    c.msg(Msg::LogLines {
        stream: c.stream(),
        lines: vec![joined],
    });
    c.feed(&[
        (POD_B, "\x1b[31mGET /api/cart 500 40ms\x1b[0m"),
        (POD_A, "POST /api/cart 201 8ms"),
        (POD_B, "GET /healthz 200 1ms"),
    ]);
    c.keys(&["/"]).type_text("cart").keys(&["enter"]);
    let buf = c.draw(100, 16);
    insta::assert_snapshot!("logview_workload", screen_text(&buf));

    let (theme, _) = Theme::load(None, None, false);
    let highlight = theme.style(Role::Highlight);
    let probe = |l: &str| line(l, "");
    for (pod, needle) in [(POD_A, "▶ POST /api/"), (POD_B, "GET /api/")] {
        // The prefix of each pod's line in its pod colour...
        let row = cells_of(&buf, &format!("{pod} {needle}"));
        let (x, y) = row[0];
        assert_eq!(
            buf[(x, y)].fg,
            theme
                .style(Role::log_pod(probe(pod).colour()))
                .fg
                .expect("a colour"),
            "{pod}'s prefix"
        );
        // ...and "cart" right after the needle highlighted.
        let at = row.len() as u16;
        for i in 0..4 {
            let cell = &buf[(x + at + i, y)];
            assert_eq!(cell.symbol(), &"cart"[i as usize..i as usize + 1]);
            assert_eq!(Some(cell.fg), highlight.fg, "highlighted match");
            assert_eq!(Some(cell.bg), highlight.bg, "highlighted match");
        }
    }
    assert_ne!(
        probe(POD_A).colour(),
        probe(POD_B).colour(),
        "the two pods get different colours"
    );
    // Text that is not a match keeps the text style.
    let (x, y) = cells_of(&buf, "GET /healthz")[0];
    assert_eq!(Some(buf[(x, y)].fg), theme.style(Role::Text).fg);
}

#[test]
fn tmux_safe_saves_on_a_capital_and_frees_ctrl_s() {
    let (km, errs) = Keymap::load(Some("tmux-safe"), None);
    assert!(errs.is_empty(), "{errs:?}");
    let key = |s: &str| s.parse::<Key>().expect("key parses");
    assert_eq!(km.resolve(Mode::Logs, key("S")), Some(&Action::LogsSave));
    assert_eq!(km.resolve(Mode::Logs, key("ctrl-s")), None);
    assert_eq!(km.resolve(Mode::Logs, key("&")), Some(&Action::LogsFilter));
}
