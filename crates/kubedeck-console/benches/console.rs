//! How fast the console answers at 10,000 pods: the first pods screen, a
//! filter keystroke (update → view model → frame), a backspace and an Esc
//! that widen and clear the filter, and a re-sort; and the
//! log view full to its bound (50,000 lines): a filter keystroke, and a
//! batch of new lines arriving while following. Each is measured end to end
//! into a ratatui TestBackend of 160x45, so the figures include drawing.

// A bench that cannot set up its fixture has nothing to measure: fail loudly.
#![allow(clippy::expect_used)]

use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kubedeck_console::cluster::watch::WatchMsg;
use kubedeck_console::cluster::{Cache, Kind, cache};
use kubedeck_console::input::keymap::Keymap;
use kubedeck_console::logview::LogView;
use kubedeck_console::state::AppState;
use kubedeck_console::theme::Theme;
use kubedeck_console::update::{Msg, update};
use kubedeck_console::{view_model, widgets};
use kubedeck_core::logs::{LineKind, LogLine, LogSource};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

const PODS: usize = 10_000;

/// The terminal every frame is drawn into.
const SIZE: Msg = Msg::Resize {
    width: 160,
    height: 45,
};

fn cluster() -> Cache {
    let (cache, mut writers) = cache::new();
    let apps = [
        "web", "api", "worker", "ledger", "search", "auth", "cart", "mailer",
    ];
    for i in 0..PODS {
        let app = apps[i % apps.len()];
        let ns = format!("team-{:03}", i % 100);
        let waiting = i % 97 == 0;
        let state = if waiting {
            json!({"waiting": {"reason": "CrashLoopBackOff"}})
        } else {
            json!({"running": {"startedAt": "2026-11-24T01:00:00Z"}})
        };
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": format!("{app}-{:010x}-{:05}", i * 7919, i),
                "namespace": ns, "labels": {"app": app, "team": format!("t{}", i % 100)},
                "creationTimestamp": format!("2026-11-2{}T0{}:00:00Z", 1 + i % 3, i % 10)
            },
            "spec": {"nodeName": format!("node-{:03}", i % 100), "containers": [{"name": app, "image": format!("registry.example/{app}:1.{}", i % 5)}]},
            "status": {"phase": "Running", "podIP": format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256),
                "containerStatuses": [{"name": app, "ready": !waiting, "restartCount": if waiting { 12 } else { 0 },
                    "image": "x", "imageID": "", "state": state}]}
        });
        writers.apply_json(&pod).expect("bench pod is valid");
    }
    cache
}

fn key(s: &str) -> Msg {
    Msg::Key(s.parse().expect("bench key"))
}

fn frame(
    state: &AppState,
    cache: &Cache,
    keymap: &Keymap,
    theme: &Theme,
    terminal: &mut Terminal<TestBackend>,
) {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 24, 3, 0, 0)
        .single()
        .expect("time");
    let vm = view_model::build(state, cache, keymap, now);
    terminal
        .draw(|f| widgets::draw(f, &vm, theme))
        .expect("draw");
}

fn benches(c: &mut Criterion) {
    let cache = cluster();
    let keymap = Keymap::built_in_default();
    let (theme, _) = Theme::load(None, None, false);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 24, 3, 0, 0)
        .single()
        .expect("time");
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).expect("terminal");

    c.bench_function("first pods screen at 10k pods", |b| {
        b.iter(|| {
            let mut state = AppState::new("bench", None, false);
            update(&mut state, SIZE, &cache, &keymap, now);
            update(&mut state, key("1"), &cache, &keymap, now);
            update(
                &mut state,
                Msg::Watch(WatchMsg::Synced(Kind::Pod)),
                &cache,
                &keymap,
                now,
            );
            frame(&state, &cache, &keymap, &theme, &mut terminal);
        })
    });

    let mut filtering = AppState::new("bench", None, false);
    update(&mut filtering, SIZE, &cache, &keymap, now);
    update(&mut filtering, key("1"), &cache, &keymap, now);
    update(&mut filtering, key("/"), &cache, &keymap, now);
    for k in ["w", "e", "b"] {
        update(&mut filtering, key(k), &cache, &keymap, now);
    }
    c.bench_function("filter keystroke to frame at 10k pods", |b| {
        b.iter_batched(
            || filtering.clone(),
            |mut state| {
                update(&mut state, key("-"), &cache, &keymap, now);
                frame(&state, &cache, &keymap, &theme, &mut terminal);
                state
            },
            BatchSize::LargeInput,
        )
    });

    // Widening and clearing the filter "web" typed above.
    for (name, k) in [
        ("filter backspace to frame at 10k pods", "backspace"),
        ("clear the filter (Esc) to frame at 10k pods", "esc"),
    ] {
        c.bench_function(name, |b| {
            b.iter_batched(
                || filtering.clone(),
                |mut state| {
                    update(&mut state, key(k), &cache, &keymap, now);
                    frame(&state, &cache, &keymap, &theme, &mut terminal);
                    state
                },
                BatchSize::LargeInput,
            )
        });
    }

    let mut sorting = AppState::new("bench", None, false);
    update(&mut sorting, SIZE, &cache, &keymap, now);
    update(&mut sorting, key("1"), &cache, &keymap, now);
    update(
        &mut sorting,
        Msg::Watch(WatchMsg::Synced(Kind::Pod)),
        &cache,
        &keymap,
        now,
    );
    c.bench_function("sort by the next column at 10k pods", |b| {
        b.iter_batched(
            || sorting.clone(),
            |mut state| {
                update(&mut state, key(">"), &cache, &keymap, now);
                frame(&state, &cache, &keymap, &theme, &mut terminal);
                state
            },
            BatchSize::LargeInput,
        )
    });
}

/// `n` lines of a workload's log from 4 pods, as a busy service writes them.
fn log_lines(n: usize, from: usize) -> Vec<LogLine> {
    let pods: Vec<std::sync::Arc<str>> = (0..4)
        .map(|i| format!("web-5bb9cdfb7d-{i:05}").into())
        .collect();
    let container: std::sync::Arc<str> = "web".into();
    let paths = [
        "/api/cart",
        "/api/orders/4821",
        "/healthz",
        "/static/app.js",
    ];
    (from..from + n)
        .map(|i| LogLine {
            pod: pods[i % pods.len()].clone(),
            container: container.clone(),
            time: None,
            text: format!(
                "GET {} {} {}ms request_id={i:08x}",
                paths[i % paths.len()],
                if i % 50 == 0 { 500 } else { 200 },
                40 + i % 150
            ),
            kind: LineKind::Log,
        })
        .collect()
}

fn log_benches(c: &mut Criterion) {
    let cache = cache::new().0;
    let keymap = Keymap::built_in_default();
    let (theme, _) = Theme::load(None, None, false);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 24, 3, 0, 0)
        .single()
        .expect("time");
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).expect("terminal");
    let mut state = AppState::new("bench", None, false);
    update(&mut state, SIZE, &cache, &keymap, now);
    let mut view = LogView::new(
        LogSource::Selector {
            namespace: "demo".into(),
            selector: "app=web".into(),
        },
        "deploy/web".into(),
        true,
        vec!["web".into()],
    );
    view.stream = 1;
    state.logs = Some(view);
    let full = 50_000;
    for chunk in 0..full / 5_000 {
        let lines = log_lines(5_000, chunk * 5_000);
        update(
            &mut state,
            Msg::LogLines { stream: 1, lines },
            &cache,
            &keymap,
            now,
        );
    }

    let mut filtering = state.clone();
    update(&mut filtering, key("&"), &cache, &keymap, now);
    for k in ["5", "0"] {
        update(&mut filtering, key(k), &cache, &keymap, now);
    }
    c.bench_function("log filter keystroke to frame at 50k lines", |b| {
        b.iter_batched(
            || filtering.clone(),
            |mut state| {
                update(&mut state, key("0"), &cache, &keymap, now);
                frame(&state, &cache, &keymap, &theme, &mut terminal);
                state
            },
            BatchSize::LargeInput,
        )
    });

    let batch = log_lines(1_000, full);
    c.bench_function(
        "1,000 new log lines to frame, following at the bound",
        |b| {
            b.iter_batched(
                || (state.clone(), batch.clone()),
                |(mut state, lines)| {
                    update(
                        &mut state,
                        Msg::LogLines { stream: 1, lines },
                        &cache,
                        &keymap,
                        now,
                    );
                    frame(&state, &cache, &keymap, &theme, &mut terminal);
                    state
                },
                BatchSize::LargeInput,
            )
        },
    );
}

/// A generic view (`:cm`) over 10,000 ConfigMaps with the server's Table:
/// opening it, and a change reaching the screen (rows re-listed and sorted,
/// the visible ones formatted, the frame drawn).
fn generic_benches(c: &mut Criterion) {
    use kubedeck_console::cluster::browse::BrowseTarget;
    use kubedeck_console::cluster::discovery::ResourceInfo;
    let keymap = Keymap::built_in_default();
    let (theme, _) = Theme::load(None, None, false);
    let now = Utc
        .with_ymd_and_hms(2026, 11, 24, 3, 0, 0)
        .single()
        .expect("time");
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).expect("terminal");
    let cm = ResourceInfo {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
        plural: "configmaps".into(),
        singular: "configmap".into(),
        short_names: vec!["cm".into()],
        namespaced: true,
        watchable: true,
        deletable: true,
    };
    let (cache, _writers) = cache::new();
    let mut objects = Vec::with_capacity(PODS);
    let mut rows = Vec::with_capacity(PODS);
    for i in 0..PODS {
        let (ns, name) = (format!("team-{:03}", i % 100), format!("settings-{i:05}"));
        objects.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": i.to_string(),
                "creationTimestamp": format!("2026-11-2{}T0{}:00:00Z", 1 + i % 3, i % 10)}}));
        rows.push((
            (ns, name.clone()),
            vec![name, (i % 7).to_string(), "2d".into()],
        ));
    }
    let columns = vec![
        ("NAME".into(), false),
        ("DATA".into(), true),
        ("AGE".into(), false),
    ];
    let target = BrowseTarget {
        resource: std::sync::Arc::new(cm.clone()),
        namespace: None,
    };
    cache.browse.fill(target, &objects, Some((columns, rows)));
    let discovered = Msg::Watch(WatchMsg::Discovered(Ok(std::sync::Arc::from(vec![cm]))));
    let open = |state: &mut AppState| {
        update(state, SIZE, &cache, &keymap, now);
        update(state, discovered.clone(), &cache, &keymap, now);
        for k in [":", "c", "m", "enter"] {
            update(state, key(k), &cache, &keymap, now);
        }
    };
    c.bench_function("open a generic view at 10k objects", |b| {
        b.iter(|| {
            let mut state = AppState::new("bench", None, false);
            open(&mut state);
            frame(&state, &cache, &keymap, &theme, &mut terminal);
        })
    });
    let mut browsing = AppState::new("bench", None, false);
    open(&mut browsing);
    let changed = Msg::Watch(WatchMsg::Changed(Kind::Resource));
    c.bench_function("generic view change to frame at 10k objects", |b| {
        b.iter(|| {
            update(&mut browsing, changed.clone(), &cache, &keymap, now);
            frame(&browsing, &cache, &keymap, &theme, &mut terminal);
        })
    });
}

criterion_group!(console, benches, log_benches, generic_benches);
criterion_main!(console);
