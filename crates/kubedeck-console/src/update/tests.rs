//! `update` driven as the loop drives it: keys, watch news, resizes and
//! the runtime's answers, over the deterministic test cluster.

use super::prompt::run_command;
use super::*;
use crate::state::Screen;
use crate::test_support::{cluster, now, resize};
use crate::views::Query;

fn key(s: &str) -> Msg {
    Msg::Key(s.parse().expect("test key parses"))
}

/// The pods view as the root screen, which these tests exercise.
fn pods_state() -> AppState {
    let mut state = AppState::new("test", None, false);
    state.stack = vec![Screen::new(View::Pods, Query::default(), "pods")];
    state
}

fn setup() -> (AppState, Cache, Keymap) {
    let cache = cluster();
    let keymap = Keymap::built_in_default();
    let mut state = pods_state();
    update(&mut state, resize(12), &cache, &keymap, now());
    update(
        &mut state,
        Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Pod)),
        &cache,
        &keymap,
        now(),
    );
    (state, cache, keymap)
}

fn names(state: &AppState) -> Vec<&str> {
    state
        .screen()
        .rows
        .iter()
        .map(|(_, n)| n.as_str())
        .collect()
}

fn type_keys(state: &mut AppState, cache: &Cache, keymap: &Keymap, text: &str) {
    for c in text.chars() {
        let k = if c == ' ' {
            "space".to_string()
        } else {
            c.to_string()
        };
        update(state, key(&k), cache, keymap, now());
    }
}

#[test]
fn a_synced_watch_lists_pods_by_namespace_then_name() {
    let (state, _, _) = setup();
    assert_eq!(
        names(&state),
        [
            "ledger-0",
            "worker-6c7d8e9f5b-zzzzz",
            "api-5f6b7c8d9f-abcde",
            "web-7d4b9c8f6d-q9z7m",
            "web-7d4b9c8f6d-x2x4k"
        ]
    );
}

#[test]
fn typing_a_filter_narrows_rows_live_and_esc_restores_them() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key("/"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "web");
    assert_eq!(
        names(&state),
        ["web-7d4b9c8f6d-q9z7m", "web-7d4b9c8f6d-x2x4k"]
    );
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert!(state.overlay.is_none());
    assert_eq!(state.screen().rows.len(), 2, "the filter stays after enter");
    update(&mut state, key("esc"), &cache, &keymap, now());
    assert_eq!(
        state.screen().rows.len(),
        5,
        "esc on the table clears the filter"
    );
}

#[test]
fn label_selector_filters_and_explains_a_bad_one() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key("/"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "-l app in (api,ledger");
    assert!(
        state
            .message
            .as_ref()
            .is_some_and(|(m, _)| m.starts_with("bad label selector"))
    );
    type_keys(&mut state, &cache, &keymap, ")");
    assert_eq!(names(&state), ["ledger-0", "api-5f6b7c8d9f-abcde"]);
    assert!(state.message.is_none());
}

#[test]
fn cursor_moves_and_the_window_follows_it() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, resize(CHROME_ROWS + 2), &cache, &keymap, now());
    assert_eq!(state.page, 2);
    for _ in 0..3 {
        update(&mut state, key("j"), &cache, &keymap, now());
    }
    assert_eq!((state.screen().selected, state.screen().offset), (3, 2));
    update(&mut state, key("G"), &cache, &keymap, now());
    assert_eq!((state.screen().selected, state.screen().offset), (4, 3));
    update(&mut state, key("g"), &cache, &keymap, now());
    assert_eq!((state.screen().selected, state.screen().offset), (0, 0));
    let out = update(&mut state, key("k"), &cache, &keymap, now());
    assert!(!out.redraw, "nothing changed at the top, so no redraw");
}

#[test]
fn sorting_by_restarts_puts_the_crash_loop_first() {
    let (mut state, cache, keymap) = setup();
    for _ in 0..4 {
        update(&mut state, key(">"), &cache, &keymap, now());
    }
    assert_eq!(state.screen().query.sort_column, 4);
    assert_eq!(names(&state)[0], "api-5f6b7c8d9f-abcde");
    update(&mut state, key("<"), &cache, &keymap, now());
    assert_ne!(names(&state)[0], "api-5f6b7c8d9f-abcde");
}

#[test]
fn shift_keys_sort_by_their_column_and_pressed_again_reverse() {
    let (mut state, cache, keymap) = setup();
    let restarts = Some(4);
    update(&mut state, key("R"), &cache, &keymap, now());
    let q = &state.screen().query;
    assert_eq!((Some(q.sort_column), q.descending), (restarts, true));
    assert_eq!(names(&state)[0], "api-5f6b7c8d9f-abcde", "7 restarts first");
    update(&mut state, key("R"), &cache, &keymap, now());
    assert!(!state.screen().query.descending);
    assert_eq!(names(&state)[4], "api-5f6b7c8d9f-abcde", "and last");
    // Name: A to Z, then Z to A.
    update(&mut state, key("N"), &cache, &keymap, now());
    assert_eq!(names(&state)[0], "api-5f6b7c8d9f-abcde");
    update(&mut state, key("N"), &cache, &keymap, now());
    assert_eq!(names(&state)[0], "worker-6c7d8e9f5b-zzzzz");
    // Age: the youngest first, as k9s.
    update(&mut state, key("A"), &cache, &keymap, now());
    assert_eq!(names(&state)[0], "worker-6c7d8e9f5b-zzzzz");
    assert_eq!(names(&state)[4], "ledger-0");
    // The header marks the column and its direction.
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    let age = vm.table.column("AGE");
    assert_eq!(age, Some(vm.table.sort_column));
}

#[test]
fn a_sort_key_for_a_column_the_view_lacks_says_so() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key("2"), &cache, &keymap, now());
    let before = state.screen().query.sort_column;
    update(&mut state, key("R"), &cache, &keymap, now());
    assert_eq!(state.screen().query.sort_column, before);
    let (text, _) = state.message.clone().expect("a message");
    assert_eq!(text, "Workloads has no RESTARTS column");
}

#[test]
fn the_faults_toggle_keeps_only_unhealthy_rows_live_and_says_so_in_the_title() {
    let (cache, mut writers) = crate::test_support::cluster_with_writers();
    let keymap = Keymap::built_in_default();
    let mut state = pods_state();
    update(&mut state, resize(12), &cache, &keymap, now());
    update(&mut state, key("z"), &cache, &keymap, now());
    assert_eq!(
        names(&state),
        ["worker-6c7d8e9f5b-zzzzz", "api-5f6b7c8d9f-abcde"]
    );
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert!(
        vm.table.title.contains("[2] <faults only>"),
        "{}",
        vm.table.title
    );
    // A filter narrows the faults; a pod that fails joins them live.
    update(&mut state, key("/"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "api");
    assert_eq!(names(&state), ["api-5f6b7c8d9f-abcde"]);
    update(&mut state, key("esc"), &cache, &keymap, now());
    update(&mut state, key("esc"), &cache, &keymap, now());
    assert_eq!(
        names(&state).len(),
        2,
        "esc clears the filter, not the toggle"
    );
    let failing = crate::test_support::pod(
        "shop",
        "web-7d4b9c8f6d-x2x4k",
        "web",
        "node-1",
        7200,
        1,
        Some("CrashLoopBackOff"),
    );
    writers.apply_json(&failing).expect("valid");
    update(
        &mut state,
        Msg::Watch(WatchMsg::Changed(crate::cluster::Kind::Pod)),
        &cache,
        &keymap,
        now(),
    );
    assert!(names(&state).contains(&"web-7d4b9c8f6d-x2x4k"));
    assert_eq!(names(&state).len(), 3);
    update(&mut state, key("z"), &cache, &keymap, now());
    assert_eq!(names(&state).len(), 5);
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert!(!vm.table.title.contains("faults"), "{}", vm.table.title);
}

#[test]
fn a_view_that_cannot_judge_health_refuses_the_faults_toggle() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key("3"), &cache, &keymap, now());
    let rows = state.screen().rows.len();
    update(&mut state, key("z"), &cache, &keymap, now());
    assert!(!state.screen().query.faults_only);
    assert_eq!(state.screen().rows.len(), rows);
    let (text, _) = state.message.clone().expect("a message");
    assert_eq!(
        text,
        "faults only: kubedeck cannot tell a fault in Services"
    );
}

#[test]
fn the_cursor_stays_on_its_pod_when_rows_change() {
    let (cache, mut writers) = crate::test_support::cluster_with_writers();
    let keymap = Keymap::built_in_default();
    let mut state = pods_state();
    update(&mut state, resize(12), &cache, &keymap, now());
    update(
        &mut state,
        Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Pod)),
        &cache,
        &keymap,
        now(),
    );
    update(&mut state, key("G"), &cache, &keymap, now());
    let chosen = state.screen().selected_key().cloned();
    assert_eq!(state.screen().selected, 4);
    let newcomer = crate::test_support::pod("alpha", "first", "x", "node-1", 1, 0, None);
    writers.apply_json(&newcomer).expect("valid pod");
    update(
        &mut state,
        Msg::Watch(WatchMsg::Changed(crate::cluster::Kind::Pod)),
        &cache,
        &keymap,
        now(),
    );
    assert_eq!(state.screen().rows.len(), 6);
    assert_eq!(state.screen().selected, 5, "the row moved down");
    assert_eq!(
        state.screen().selected_key().cloned(),
        chosen,
        "the cursor followed its pod"
    );
}

#[test]
fn commands_switch_views_and_namespaces_and_quit() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "ns shop");
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(state.namespace.as_deref(), Some("shop"));
    assert_eq!(state.screen().rows.len(), 3);
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "nope");
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert!(
        state
            .message
            .as_ref()
            .is_some_and(|(m, _)| m.contains("unknown command \"nope\""))
    );
    let out = update(&mut state, key("q"), &cache, &keymap, now());
    assert_eq!(out.effects, vec![Effect::Quit]);
}

#[test]
fn a_failed_watch_marks_the_data_stale_but_keeps_it() {
    let (mut state, cache, keymap) = setup();
    update(
        &mut state,
        Msg::Watch(WatchMsg::Failed(
            crate::cluster::Kind::Pod,
            "connection refused".into(),
        )),
        &cache,
        &keymap,
        now(),
    );
    assert_eq!(
        state.health.get(&crate::cluster::Kind::Pod),
        Some(&Health::Stale(now()))
    );
    assert_eq!(state.screen().rows.len(), 5);
}

#[test]
fn a_kind_back_from_an_outage_redraws_the_banner_away_though_the_view_hides_it() {
    let (mut state, cache, keymap) = setup();
    let node = crate::cluster::Kind::Node;
    let mut watch = |w: WatchMsg| update(&mut state, Msg::Watch(w), &cache, &keymap, now());
    watch(WatchMsg::Unreachable(node, "no answer".into()));
    // The pods view shows no nodes, but the banner is on every screen.
    assert!(watch(WatchMsg::Synced(node)).redraw, "the banner goes");
    assert!(
        !watch(WatchMsg::Changed(node)).redraw,
        "a change the view does not show draws nothing"
    );
}

fn crumbs(state: &AppState) -> Vec<&str> {
    state.stack.iter().map(|s| s.crumb.as_str()).collect()
}

fn select(state: &mut AppState, name: &str) {
    let screen = state.screen_mut();
    screen.selected = screen
        .rows
        .iter()
        .position(|k| k.1 == name)
        .unwrap_or_else(|| panic!("{name} is listed in {:?}", screen.rows));
}

#[test]
fn the_console_lands_on_the_overview_worst_namespace_first() {
    let cache = cluster();
    let keymap = Keymap::built_in_default();
    let mut state = AppState::new("test", None, false);
    let out = update(
        &mut state,
        Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Namespace)),
        &cache,
        &keymap,
        now(),
    );
    assert!(out.redraw);
    assert_eq!(state.screen().view, View::Overview);
    assert_eq!(names(&state), ["shop", "payments", "quiet"]);
}

#[test]
fn a_misspelled_namespace_is_refused_with_the_closest_names() {
    let (mut state, cache, _) = setup();
    let before = state.namespace.clone();
    run_command(&mut state, "ns shpo", &cache, now());
    assert_eq!(state.namespace, before, "the view keeps its namespace");
    let (msg, role) = state.message.clone().expect("a message");
    assert_eq!(role, Role::Warning);
    assert_eq!(msg, "namespace \"shpo\" not found; did you mean shop?");
    run_command(&mut state, "ns shop", &cache, now());
    assert_eq!(state.namespace.as_deref(), Some("shop"));
}

#[test]
fn enter_drills_from_a_namespace_to_a_pods_containers_and_esc_climbs_back() {
    let (mut state, cache, keymap) = setup();
    run_command(&mut state, "ns", &cache, now());
    select(&mut state, "shop");
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Services);
    assert_eq!(names(&state), ["api", "web"]);
    select(&mut state, "web");
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Workloads);
    assert_eq!(names(&state), ["Deployment/web"]);
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Pods);
    assert_eq!(
        names(&state),
        ["web-7d4b9c8f6d-q9z7m", "web-7d4b9c8f6d-x2x4k"]
    );
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(names(&state), ["web-7d4b9c8f6d-q9z7m/web"]);
    assert_eq!(
        crumbs(&state),
        [
            "namespaces",
            "ns/shop",
            "svc/web",
            "deploy/web",
            "web-7d4b9c8f6d-q9z7m"
        ]
    );
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(vm.table.title, "Containers(all)[1]");
    update(&mut state, key("esc"), &cache, &keymap, now());
    update(&mut state, key("esc"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Workloads);
    assert_eq!(crumbs(&state).len(), 3);
}

#[test]
fn a_service_without_a_workload_opens_its_pods() {
    let (cache, mut writers) = crate::test_support::cluster_with_writers();
    writers
        .apply_json(&serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "loose", "namespace": "shop"},
            "spec": {"selector": {"app": "api"}, "ports": [{"port": 80}]}
        }))
        .expect("valid service");
    writers
        .apply_json(&serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "api"}},
                     "template": {"metadata": {"labels": {"app": "other"}}, "spec": {"containers": []}}}
        }))
        .expect("valid deployment");
    let keymap = Keymap::built_in_default();
    let mut state = AppState::new("test", None, false);
    run_command(&mut state, "svc", &cache, now());
    select(&mut state, "loose");
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Pods);
    assert_eq!(names(&state), ["api-5f6b7c8d9f-abcde"]);
}

#[test]
fn describe_and_yaml_open_a_scrollable_pane_that_esc_closes() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, resize(CHROME_ROWS + 4), &cache, &keymap, now());
    select(&mut state, "api-5f6b7c8d9f-abcde");
    update(&mut state, key("y"), &cache, &keymap, now());
    let pane = state.screen().text().cloned().expect("a YAML pane");
    assert_eq!(pane.title, "yaml pod/api-5f6b7c8d9f-abcde");
    assert_eq!(pane.lines[..2], ["apiVersion: v1", "kind: Pod"]);
    update(&mut state, key("j"), &cache, &keymap, now());
    update(&mut state, key("pagedown"), &cache, &keymap, now());
    assert_eq!(state.screen().text().map(|p| p.scroll), Some(5));
    update(&mut state, key("G"), &cache, &keymap, now());
    let last = pane.lines.len() - 5;
    assert_eq!(state.screen().text().map(|p| p.scroll), Some(last));
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    let text = vm.text.expect("the pane is drawn");
    assert_eq!(text.lines.len(), 5);
    assert_eq!(text.lines.last(), pane.lines.last());
    let out = update(
        &mut state,
        Msg::Watch(WatchMsg::Changed(crate::cluster::Kind::Pod)),
        &cache,
        &keymap,
        now(),
    );
    assert!(!out.redraw, "the pane is a snapshot");
    update(&mut state, key("esc"), &cache, &keymap, now());
    assert!(state.screen().text().is_none());
    assert_eq!(
        state.screen().selected_key().map(|k| k.1.as_str()),
        Some("api-5f6b7c8d9f-abcde")
    );
    update(&mut state, key("d"), &cache, &keymap, now());
    let pane = state.screen().text().cloned().expect("a describe pane");
    assert!(
        pane.lines
            .iter()
            .any(|l| l == "Status:         Error 1 (CrashLoopBackOff)")
    );
}

#[test]
fn number_keys_go_to_views_and_the_hpa_view_explains_the_selection() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key("4"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Hpas);
    assert_eq!(names(&state), ["ledger", "web"]);
    select(&mut state, "web");
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    let detail = vm.detail.expect("an HPA has a detail pane");
    assert!(detail[0].text.starts_with("at max (2)"), "{detail:?}");
    assert!(
        detail
            .iter()
            .any(|c| c.text.starts_with("scale-down: window 300s"))
    );
    update(&mut state, key("5"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Events);
    update(&mut state, key("0"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Overview);
}

fn command(state: &mut AppState, cache: &Cache, keymap: &Keymap, line: &str) -> Updated {
    update(state, key(":"), cache, keymap, now());
    type_keys(state, cache, keymap, line);
    update(state, key("enter"), cache, keymap, now())
}

fn message(state: &AppState) -> &str {
    state.message.as_ref().map_or("", |(m, _)| m.as_str())
}

#[test]
fn the_log_pane_toggles_and_takes_its_rows_from_the_table() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, resize(40), &cache, &keymap, now());
    assert_eq!(state.page, 34);
    update(&mut state, key("G"), &cache, &keymap, now());
    let out = update(&mut state, key("ctrl-l"), &cache, &keymap, now());
    assert!(out.redraw && state.log_pane);
    assert_eq!(state.page, 24, "ten rows for the pane");
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    let log = vm.log.expect("the pane is in the view model");
    assert_eq!(log.height, 10);
    assert_eq!(log.title, "kubedeck log  <ctrl-l> hides");
    update(&mut state, resize(15), &cache, &keymap, now());
    assert_eq!(state.page, 4, "a third of a short screen");
    update(&mut state, key("ctrl-l"), &cache, &keymap, now());
    assert!(!state.log_pane);
    assert_eq!(state.page, 9);
    assert_eq!(
        state.screen().selected,
        4,
        "the cursor kept its row throughout"
    );
}

#[test]
fn log_activity_redraws_only_a_visible_log_pane() {
    let (mut state, cache, keymap) = setup();
    assert!(!update(&mut state, Msg::Logged, &cache, &keymap, now()).redraw);
    update(&mut state, key("ctrl-l"), &cache, &keymap, now());
    assert!(update(&mut state, Msg::Logged, &cache, &keymap, now()).redraw);
}

#[test]
fn ctx_asks_the_runtime_to_switch_unless_already_there() {
    let (mut state, cache, keymap) = setup();
    let out = command(&mut state, &cache, &keymap, "ctx staging");
    assert_eq!(out.effects, vec![Effect::SwitchContext("staging".into())]);
    assert_eq!(message(&state), "switching to context staging…");
    assert_eq!(state.switching.as_deref(), Some("staging"));
    assert_eq!(state.context, "test", "nothing changes until it connects");
    let out = command(&mut state, &cache, &keymap, "ctx test");
    assert!(out.effects.is_empty());
    assert_eq!(message(&state), "already on context test");
    let out = command(&mut state, &cache, &keymap, "ctx");
    assert_eq!(out.effects, vec![Effect::ListContexts]);
    // Left before the list came: it comes as a message.
    update(&mut state, key("esc"), &cache, &keymap, now());
    update(
        &mut state,
        Msg::Contexts(Ok(vec!["prod".into(), "test".into()])),
        &cache,
        &keymap,
        now(),
    );
    assert_eq!(
        message(&state),
        "contexts: prod *test  (:ctx NAME switches)"
    );
}

#[test]
fn a_switched_context_starts_over_on_the_landing_view() {
    let (mut state, cache, keymap) = setup();
    let broken = "config config.toml line 3: unknown field; kubedeck changes nothing until the file is fixed (read-only views still work)";
    state.blocked = Some(broken.into());
    update(&mut state, key("ctrl-l"), &cache, &keymap, now());
    command(&mut state, &cache, &keymap, "ns shop");
    command(&mut state, &cache, &keymap, "ctx prod");
    let page = state.page;
    let (fresh, _) = crate::cluster::cache::new();
    let out = update(
        &mut state,
        Msg::ContextSwitched {
            name: "prod".into(),
            namespace: Some("payments".into()),
            readonly: true,
            warnings: vec!["theme \"prod-red\": no such theme".into()],
        },
        &fresh,
        &keymap,
        now(),
    );
    assert!(out.redraw);
    assert_eq!(state.context, "prod");
    assert_eq!(state.namespace.as_deref(), Some("payments"));
    assert!(state.readonly, "a protected context is read-only");
    assert_eq!(state.stack.len(), 1);
    assert_eq!(state.screen().view, View::Overview);
    assert!(state.screen().rows.is_empty(), "the fresh cache is empty");
    assert!(state.health.values().all(|h| *h == Health::Syncing));
    assert_eq!((state.page, state.log_pane), (page, true));
    assert_eq!(state.switching, None);
    assert_eq!(message(&state), "switched to context prod");
    assert_eq!(state.warnings, ["theme \"prod-red\": no such theme"]);
    assert_eq!(
        state.blocked.as_deref(),
        Some(broken),
        "a broken config still says why after the switch"
    );
}

#[test]
fn a_failed_switch_stays_on_the_old_context_and_says_why() {
    let (mut state, cache, keymap) = setup();
    command(&mut state, &cache, &keymap, "ctx nope");
    update(
        &mut state,
        Msg::ContextFailed {
            name: "nope".into(),
            error: "no context \"nope\" in the kubeconfig; it has: prod, test".into(),
        },
        &cache,
        &keymap,
        now(),
    );
    assert_eq!(
        message(&state),
        "cannot switch to context nope: no context \"nope\" in the kubeconfig; it has: prod, test; staying on test"
    );
    assert_eq!(state.context, "test");
    assert_eq!(state.switching, None);
    assert_eq!(state.screen().view, View::Pods);
    assert_eq!(state.screen().rows.len(), 5);
}

#[test]
fn a_metrics_sample_fills_and_sorts_the_cpu_and_mem_columns() {
    use crate::cluster::metrics::Usage;
    let (mut state, cache, keymap) = setup();
    let cells = |state: &AppState| -> Vec<(String, String, String)> {
        let vm = crate::view_model::build(state, &cache, &keymap, now());
        vm.table
            .rows
            .iter()
            .map(|r| (r[1].text.clone(), r[5].text.clone(), r[6].text.clone()))
            .collect()
    };
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(vm.table.columns[5].name, "CPU");
    assert_eq!(vm.table.columns[6].name, "MEM");
    assert!(cells(&state).iter().all(|(_, c, m)| c == "-" && m == "-"));
    let usage = |cpu_millis, mib: u64| Usage {
        cpu_millis,
        memory_bytes: mib << 20,
    };
    let sample = PodMetrics::Sample(std::collections::HashMap::from([
        (
            ("shop".into(), "web-7d4b9c8f6d-x2x4k".into()),
            usage(12, 45),
        ),
        (
            ("shop".into(), "web-7d4b9c8f6d-q9z7m".into()),
            usage(250, 80),
        ),
        (("payments".into(), "ledger-0".into()), usage(3, 300)),
    ]));
    let out = update(&mut state, Msg::Metrics(sample), &cache, &keymap, now());
    assert!(out.redraw, "the pods view shows metrics");
    assert!(cells(&state).contains(&("web-7d4b9c8f6d-x2x4k".into(), "12m".into(), "45Mi".into())));
    assert!(cells(&state).contains(&("api-5f6b7c8d9f-abcde".into(), "-".into(), "-".into())));
    for _ in 0..5 {
        update(&mut state, key(">"), &cache, &keymap, now());
    }
    assert_eq!(state.screen().query.sort_column, 5);
    assert_eq!(
        &names(&state)[..3],
        ["web-7d4b9c8f6d-q9z7m", "web-7d4b9c8f6d-x2x4k", "ledger-0"],
        "busiest first"
    );
    update(
        &mut state,
        Msg::Metrics(PodMetrics::Unavailable),
        &cache,
        &keymap,
        now(),
    );
    assert!(
        cells(&state)
            .iter()
            .all(|(_, c, m)| c == "n/a" && m == "n/a")
    );
    update(&mut state, key("0"), &cache, &keymap, now());
    let out = update(
        &mut state,
        Msg::Metrics(PodMetrics::Pending),
        &cache,
        &keymap,
        now(),
    );
    assert!(!out.redraw, "no view but pods shows metrics");
}

/// The lines of the open dialog, as the screen shows them.
fn dialog_text(state: &AppState, cache: &Cache, keymap: &Keymap) -> String {
    crate::view_model::build(state, cache, keymap, now())
        .dialog
        .map(|d| {
            d.lines
                .iter()
                .map(|l| l.iter().map(|c| c.text.as_str()).collect::<String>())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The workloads view of the rollout cluster, on demo/web, in kind-dev.
fn workloads_of_rollout_cluster() -> (AppState, Cache, Keymap) {
    let cache = crate::test_support::rollout_cluster();
    let keymap = Keymap::built_in_default();
    let mut state = AppState::new("kind-dev", None, false);
    state.stack = vec![Screen::new(View::Workloads, Query::default(), "workloads")];
    update(&mut state, resize(40), &cache, &keymap, now());
    update(
        &mut state,
        Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Deployment)),
        &cache,
        &keymap,
        now(),
    );
    (state, cache, keymap)
}

#[test]
fn enter_while_consequences_are_checked_confirms_nothing_and_says_so() {
    use kubedeck_core::actions::{Confirmation, Permission};
    let (mut state, cache, keymap) = workloads_of_rollout_cluster();
    // `p` then a quick Enter, before the runtime has planned the pause.
    let out = update(&mut state, key("p"), &cache, &keymap, now());
    let Some(Effect::Plan { id, command }) = out.effects.into_iter().next() else {
        panic!("p asks the runtime to plan");
    };
    let out = update(&mut state, key("enter"), &cache, &keymap, now());
    assert!(out.redraw, "the early Enter is acknowledged on screen");
    assert!(out.effects.is_empty(), "{:?}", out.effects);
    let text = dialog_text(&state, &cache, &keymap);
    assert!(
        text.contains("still checking consequences — Enter did not confirm; press it again once they are shown"),
        "{text}"
    );
    let c = Confirmation::new(
        command,
        "kind-dev",
        &kubedeck_core::config::Config::default(),
        vec!["the rollout stops where it is".into()],
    );
    update(
        &mut state,
        Msg::Planned {
            id,
            result: Ok(c.clone()),
            permission: Permission::Allowed,
        },
        &cache,
        &keymap,
        now(),
    );
    let text = dialog_text(&state, &cache, &keymap);
    assert!(text.contains("• the rollout stops where it is"), "{text}");
    assert!(
        text.contains("Enter came before these were shown and confirmed nothing"),
        "{text}"
    );
    // Only the Enter pressed with the consequences in view confirms.
    let out = update(&mut state, key("enter"), &cache, &keymap, now());
    let expected = c.confirm(None).expect("no typed name in kind-dev");
    assert_eq!(out.effects, vec![Effect::Execute(expected)]);
}

#[test]
fn other_keys_while_planning_are_acknowledged_not_dropped() {
    let (mut state, cache, keymap) = workloads_of_rollout_cluster();
    update(&mut state, key("p"), &cache, &keymap, now());
    assert!(state.dialog.is_some());
    let out = update(&mut state, key("x"), &cache, &keymap, now());
    assert!(out.redraw);
    let text = dialog_text(&state, &cache, &keymap);
    assert!(
        text.contains("still checking consequences — only esc works until they are shown"),
        "{text}"
    );
}

/// The test cluster as the console starts: Warning events only.
fn warnings_only() -> (Cache, Option<crate::cluster::cache::AllEvents>) {
    let mut cache = cluster();
    let all = cache.all_events.take();
    (cache, all)
}

fn all_events_effects(out: &Updated) -> Vec<&Effect> {
    out.effects
        .iter()
        .filter(|e| matches!(e, Effect::WatchAllEvents(_)))
        .collect()
}

#[test]
fn every_event_is_watched_only_while_a_screen_reads_normal_events() {
    use crate::cluster::Kind;
    let (mut cache, all) = warnings_only();
    let keymap = Keymap::built_in_default();
    let mut state = AppState::new("test", None, false);
    let out = update(&mut state, resize(20), &cache, &keymap, now());
    assert!(
        all_events_effects(&out).is_empty(),
        "the overview reads warnings"
    );

    // The update that opens the events view asks for the watch.
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "events");
    let out = update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Events);
    assert_eq!(all_events_effects(&out), [&Effect::WatchAllEvents(true)]);
    assert_eq!(state.health.get(&Kind::Event), Some(&Health::Syncing));
    // The runtime starts it: an empty store, loading.
    let (empty, _writer) = crate::cluster::cache::AllEvents::new();
    cache.all_events = Some(empty);
    update(
        &mut state,
        Msg::Watch(WatchMsg::Changed(Kind::Event)),
        &cache,
        &keymap,
        now(),
    );
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(
        vm.table.title,
        "Events(all)[0 loading] warnings first, newest first"
    );
    // Its list is in: Normal events show beside the warnings.
    cache.all_events.clone_from(&all);
    update(
        &mut state,
        Msg::Watch(WatchMsg::Synced(Kind::Event)),
        &cache,
        &keymap,
        now(),
    );
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(
        vm.table.title,
        "Events(all)[4] warnings first, newest first"
    );
    let reasons: Vec<&str> = vm.table.rows.iter().map(|r| r[2].text.as_str()).collect();
    assert_eq!(
        reasons,
        ["BackOff", "Failed", "SuccessfulRescale", "Scheduled"]
    );

    // An outage of that watch, then the overview: the watch and its
    // health go, so no banner outlives it.
    update(
        &mut state,
        Msg::Watch(WatchMsg::Unreachable(Kind::Event, "no answer".into())),
        &cache,
        &keymap,
        now(),
    );
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "overview");
    let out = update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(all_events_effects(&out), [&Effect::WatchAllEvents(false)]);
    assert_eq!(state.health.get(&Kind::Event), None);
    cache.all_events = None;
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(vm.banner, None);
}

#[test]
fn a_describe_opened_before_every_event_is_listed_shows_its_events_once_they_are() {
    use crate::cluster::Kind;
    let (mut cache, all) = warnings_only();
    let keymap = Keymap::built_in_default();
    let mut state = pods_state();
    update(&mut state, resize(40), &cache, &keymap, now());
    update(
        &mut state,
        Msg::Watch(WatchMsg::Synced(Kind::Pod)),
        &cache,
        &keymap,
        now(),
    );
    select(&mut state, "web-7d4b9c8f6d-x2x4k");
    let out = update(&mut state, key("d"), &cache, &keymap, now());
    assert_eq!(all_events_effects(&out), [&Effect::WatchAllEvents(true)]);
    let lines = state
        .screen()
        .text()
        .expect("a describe pane")
        .lines
        .clone();
    assert!(
        lines.iter().any(|l| l == "Events:         loading…"),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("Scheduled")));

    cache.all_events.clone_from(&all);
    let out = update(
        &mut state,
        Msg::Watch(WatchMsg::Synced(Kind::Event)),
        &cache,
        &keymap,
        now(),
    );
    assert!(out.redraw);
    let lines = state
        .screen()
        .text()
        .expect("a describe pane")
        .lines
        .clone();
    assert!(lines.iter().any(|l| l.contains("Scheduled")), "{lines:?}");
    // Described with its events, the pane no longer needs the watch.
    assert_eq!(all_events_effects(&out), [&Effect::WatchAllEvents(false)]);
}

#[test]
fn every_command_the_help_lists_is_known() {
    let (mut state, cache, _) = setup();
    for (command, _) in crate::help::VERBS {
        let word: String = command
            .trim_start_matches(':')
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '!')
            .collect();
        if word.is_empty() {
            // :NAME, any resource: the generic view's own tests.
            continue;
        }
        let line = match word.as_str() {
            "ns" => "ns all".to_string(),
            _ => word.clone(),
        };
        state.message = None;
        let out = run_command(&mut state, &line, &cache, now());
        let said = state.message.clone().map(|(m, _)| m).unwrap_or_default();
        assert!(
            !said.starts_with("unknown command") && !said.contains("takes no argument"),
            ":{line} -> {said}"
        );
        assert!(
            out.redraw || !out.effects.is_empty() || state.quit,
            ":{line} did nothing"
        );
        state.stack.truncate(1);
        state.quit = false;
    }
}

#[test]
fn help_scrolls_by_line_and_page_and_stops_at_its_end() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key("?"), &cache, &keymap, now());
    let total = crate::view_model::help_lines(&state, &keymap).len();
    update(&mut state, key("j"), &cache, &keymap, now());
    assert_eq!(state.help_scroll, 1);
    update(&mut state, key("pagedown"), &cache, &keymap, now());
    assert_eq!(state.help_scroll, 1 + state.page);
    update(&mut state, key("G"), &cache, &keymap, now());
    assert_eq!(state.help_scroll, total - 1);
    let out = update(&mut state, key("pagedown"), &cache, &keymap, now());
    assert!(!out.redraw, "nothing more to scroll");
    update(&mut state, key("esc"), &cache, &keymap, now());
    assert!(state.overlay.is_none());
    update(&mut state, key("?"), &cache, &keymap, now());
    assert_eq!(state.help_scroll, 0, "help opens at its top");
}

fn prompt_line(state: &AppState) -> Option<&str> {
    match &state.overlay {
        Some(crate::state::Overlay::Prompt(crate::state::Prompt::Command(t))) => Some(t),
        _ => None,
    }
}

#[test]
fn tab_completes_what_the_candidates_share_shows_them_and_cycles() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "ba");
    update(&mut state, key("tab"), &cache, &keymap, now());
    assert_eq!(prompt_line(&state), Some("backup"));
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    let shown = vm.completion.expect("candidates shown");
    assert_eq!(shown.items, ["backup", "backups"]);
    update(&mut state, key("tab"), &cache, &keymap, now());
    update(&mut state, key("tab"), &cache, &keymap, now());
    assert_eq!(prompt_line(&state), Some("backups"));
    update(&mut state, key("up"), &cache, &keymap, now());
    assert_eq!(prompt_line(&state), Some("backup"));
    update(&mut state, key("down"), &cache, &keymap, now());
    update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Backups);
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert!(vm.completion.is_none(), "gone with the line");
    // Typing narrows open candidates; one left fills the line.
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "ns ");
    update(&mut state, key("tab"), &cache, &keymap, now());
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(
        vm.completion.expect("namespaces").items,
        ["all", "payments", "quiet", "shop"]
    );
    type_keys(&mut state, &cache, &keymap, "p");
    update(&mut state, key("tab"), &cache, &keymap, now());
    assert_eq!(prompt_line(&state), Some("ns payments"));
    update(&mut state, key("esc"), &cache, &keymap, now());
    // The config's favourites come first, those the cluster has.
    state.favourites = vec!["shop".to_string(), "gone".into()].into();
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "ns ");
    update(&mut state, key("tab"), &cache, &keymap, now());
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(
        vm.completion.expect("namespaces").items,
        ["all", "shop", "payments", "quiet"]
    );
}

#[test]
fn ctx_alone_offers_the_contexts_to_pick_from() {
    let (mut state, cache, keymap) = setup();
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "ctx");
    let out = update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(out.effects, [Effect::ListContexts]);
    assert_eq!(prompt_line(&state), Some("ctx "));
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert!(vm.completion.expect("waiting").loading);
    update(
        &mut state,
        Msg::Contexts(Ok(vec!["kind-dev".into(), "prod-eu".into()])),
        &cache,
        &keymap,
        now(),
    );
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(
        vm.completion.expect("listed").items,
        ["kind-dev", "prod-eu"]
    );
    update(&mut state, key("down"), &cache, &keymap, now());
    update(&mut state, key("down"), &cache, &keymap, now());
    assert_eq!(prompt_line(&state), Some("ctx prod-eu"));
    let out = update(&mut state, key("enter"), &cache, &keymap, now());
    assert!(
        out.effects
            .iter()
            .any(|e| format!("{e:?}").contains("prod-eu")),
        "{:?}",
        out.effects
    );
}

#[test]
fn number_keys_reach_the_on_call_panes_and_a_keymap_can_bind_any_command() {
    let (mut state, cache, keymap) = setup();
    let out = update(&mut state, key("7"), &cache, &keymap, now());
    assert_eq!(
        out.effects,
        [Effect::Ops(crate::oncall::OpsEffect::ListRunbooks)]
    );
    update(&mut state, key("9"), &cache, &keymap, now());
    assert_eq!(state.screen().crumb, "port-forwards");
    update(&mut state, key("8"), &cache, &keymap, now());
    let (said, _) = state.message.clone().expect("a message");
    assert!(said.starts_with("no recovery test yet"), "{said}");

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mine.toml"),
        "extends = \"default\"\n[normal]\nb = { run = \"backups\" }\nX = { run = \"ns payments\" }\n",
    )
    .expect("write");
    let (mine, errs) = Keymap::load(Some("mine"), Some(dir.path()));
    assert!(errs.is_empty(), "{errs:?}");
    update(&mut state, key("b"), &cache, &mine, now());
    assert_eq!(state.screen().view, View::Backups);
    update(&mut state, key("X"), &cache, &mine, now());
    assert_eq!(state.namespace.as_deref(), Some("payments"));
}

#[test]
fn the_overview_says_the_api_servers_latency_to_ten_milliseconds() {
    use std::time::Duration;
    let cache = cluster();
    let keymap = Keymap::built_in_default();
    let mut state = AppState::new("test", None, false);
    for kind in crate::cluster::Kind::ALL {
        state.health.insert(kind, crate::state::Health::Live);
    }
    let latency = |ms| Msg::Watch(WatchMsg::Latency(Duration::from_millis(ms)));
    let line = |state: &AppState| -> String {
        let vm = crate::view_model::build(state, &cache, &keymap, now());
        vm.table
            .summary
            .expect("the overview's line")
            .iter()
            .map(|c| c.text.as_str())
            .collect()
    };
    assert!(
        line(&state).starts_with("API ok  ·  nodes"),
        "no sample yet"
    );
    assert!(update(&mut state, latency(23), &cache, &keymap, now()).redraw);
    assert!(
        line(&state).starts_with("API ok 20 ms  ·  "),
        "{}",
        line(&state)
    );
    let out = update(&mut state, latency(27), &cache, &keymap, now());
    assert!(!out.redraw, "the same to 10 ms");
    update(&mut state, latency(4), &cache, &keymap, now());
    assert!(
        line(&state).starts_with("API ok <10 ms"),
        "{}",
        line(&state)
    );
    state.health.insert(
        crate::cluster::Kind::Pod,
        crate::state::Health::Unreachable(now()),
    );
    assert!(
        line(&state).starts_with("API unreachable  ·  "),
        "{}",
        line(&state)
    );
}

#[test]
fn a_click_selects_a_row_a_second_opens_it_and_the_wheel_moves_three() {
    let (mut state, cache, keymap) = setup();
    let click = |row| Msg::Mouse(crate::update::Mouse::Click { column: 10, row });
    // Rows start under the header, breadcrumb, border and column headers.
    assert!(update(&mut state, click(6), &cache, &keymap, now()).redraw);
    assert_eq!(state.screen().selected, 2);
    assert_eq!(names(&state)[2], "api-5f6b7c8d9f-abcde");
    // Outside the rows: nothing.
    assert!(!update(&mut state, click(1), &cache, &keymap, now()).redraw);
    assert_eq!(state.screen().selected, 2);
    // Another row, then that row again soon after: it opens.
    update(&mut state, click(4), &cache, &keymap, now());
    let later = now() + chrono::Duration::milliseconds(300);
    update(&mut state, click(4), &cache, &keymap, later);
    assert_eq!(
        state.screen().crumb,
        "ledger-0",
        "{:?}",
        state.screen().crumb
    );
    update(&mut state, key("esc"), &cache, &keymap, now());
    // A key between two clicks: no double click.
    update(&mut state, click(5), &cache, &keymap, now());
    update(&mut state, key("j"), &cache, &keymap, now());
    update(&mut state, click(5), &cache, &keymap, now());
    assert_eq!(state.screen().view, View::Pods);
    update(&mut state, key("k"), &cache, &keymap, now());
    // Too slow for a double click: it stays a click.
    update(&mut state, click(5), &cache, &keymap, now());
    let slow = now() + chrono::Duration::seconds(2);
    update(&mut state, click(5), &cache, &keymap, slow);
    assert_eq!(state.screen().view, View::Pods);

    update(&mut state, key("g"), &cache, &keymap, now());
    let wheel = Msg::Mouse(crate::update::Mouse::ScrollDown);
    update(&mut state, wheel, &cache, &keymap, now());
    assert_eq!(state.screen().selected, 3);
    let wheel = Msg::Mouse(crate::update::Mouse::ScrollUp);
    update(&mut state, wheel, &cache, &keymap, now());
    assert_eq!(state.screen().selected, 0);
}

#[test]
fn theme_and_runbook_names_complete_and_theme_asks_the_runtime() {
    let (mut state, cache, keymap) = setup();
    state.themes = vec!["dark".into(), "light".into(), "high-contrast".into()];
    state.runbooks = vec!["db-failover".into(), "disk-full".into()];
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "theme li");
    update(&mut state, key("tab"), &cache, &keymap, now());
    assert_eq!(prompt_line(&state), Some("theme light"));
    let out = update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(out.effects, [Effect::SetTheme("light".into())]);
    update(
        &mut state,
        Msg::ThemeSet {
            name: "light".into(),
            warnings: Vec::new(),
        },
        &cache,
        &keymap,
        now(),
    );
    assert_eq!(message(&state), "theme light");

    // :theme alone offers them all.
    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "theme");
    update(&mut state, key("enter"), &cache, &keymap, now());
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert_eq!(
        vm.completion.expect("themes").items,
        ["dark", "light", "high-contrast"]
    );
    update(&mut state, key("esc"), &cache, &keymap, now());

    update(&mut state, key(":"), &cache, &keymap, now());
    type_keys(&mut state, &cache, &keymap, "rb di");
    update(&mut state, key("tab"), &cache, &keymap, now());
    assert_eq!(prompt_line(&state), Some("rb disk-full"));
    let out = update(&mut state, key("enter"), &cache, &keymap, now());
    assert_eq!(
        out.effects,
        [Effect::Ops(crate::oncall::OpsEffect::ListRunbooks)]
    );
}

#[test]
fn the_overview_line_takes_a_row_from_the_table_and_the_cursor_stays_in_view() {
    let cache = cluster();
    let keymap = Keymap::built_in_default();
    let mut state = AppState::new("test", None, false);
    update(&mut state, resize(CHROME_ROWS + 3), &cache, &keymap, now());
    update(
        &mut state,
        Msg::Watch(WatchMsg::Synced(crate::cluster::Kind::Namespace)),
        &cache,
        &keymap,
        now(),
    );
    assert_eq!(state.page, 3);
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert!(vm.table.summary.is_some());
    assert_eq!(vm.table.rows.len(), 2, "three lines, one the summary's");
    update(&mut state, key("G"), &cache, &keymap, now());
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    let selected = vm.table.selected.expect("a selection");
    assert_eq!(
        vm.table.rows[selected][0].text, "quiet",
        "the last row, shown"
    );
}

#[test]
fn a_metrics_sample_lists_the_pods_again_only_when_they_are_sorted_by_it() {
    let (cache, mut writers) = crate::test_support::cluster_with_writers();
    let keymap = Keymap::built_in_default();
    let mut state = pods_state();
    update(&mut state, resize(12), &cache, &keymap, now());
    // A pod the store has but no watch message announced yet.
    let late = crate::test_support::pod("shop", "late-0", "late", "node-1", 10, 0, None);
    writers.apply_json(&late).expect("valid");
    let sample = || Msg::Metrics(PodMetrics::Sample(std::collections::HashMap::new()));
    // Sorted by name: the sample redraws the cells, the rows stand.
    assert!(update(&mut state, sample(), &cache, &keymap, now()).redraw);
    assert!(!names(&state).contains(&"late-0"));
    // Sorted by CPU: the sample orders them again, from the store.
    update(&mut state, key("C"), &cache, &keymap, now());
    let later = crate::test_support::pod("shop", "later-0", "late", "node-1", 10, 0, None);
    writers.apply_json(&later).expect("valid");
    assert!(!names(&state).contains(&"later-0"));
    update(&mut state, sample(), &cache, &keymap, now());
    assert!(names(&state).contains(&"later-0"));
}

#[test]
fn a_click_picks_the_row_drawn_there_when_a_pane_shortens_the_window() {
    let (mut state, cache, keymap) = setup();
    // A detail pane takes rows from a short table.
    update(&mut state, resize(CHROME_ROWS + 6), &cache, &keymap, now());
    update(&mut state, key("4"), &cache, &keymap, now());
    update(&mut state, key("G"), &cache, &keymap, now());
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert!(vm.detail.is_some(), "the HPA's why pane shows");
    let drawn_first = state.screen().selected - vm.table.selected.expect("selected");
    assert!(
        drawn_first > 0,
        "the window starts below the update's offset"
    );
    let click = Msg::Mouse(crate::update::Mouse::Click { column: 3, row: 4 });
    update(&mut state, click, &cache, &keymap, now());
    assert_eq!(state.screen().selected, drawn_first, "the top row drawn");
}

#[test]
fn ns_lists_the_configs_favourite_namespaces_first() {
    let (mut state, cache, keymap) = setup();
    state.favourites = vec!["quiet".to_string(), "shop".into()].into();
    run_command(&mut state, "ns", &cache, now());
    assert_eq!(state.screen().view, View::Namespaces);
    assert_eq!(&names(&state)[..2], ["quiet", "shop"]);
    let vm = crate::view_model::build(&state, &cache, &keymap, now());
    assert!(
        vm.table.title.ends_with("favourites first"),
        "{}",
        vm.table.title
    );
    assert_eq!(vm.table.order_note, Some("favourites first"));
    // Without favourites, by name as before.
    state.favourites = Vec::new().into();
    run_command(&mut state, "ns", &cache, now());
    assert_eq!(names(&state)[0], "payments");
}
