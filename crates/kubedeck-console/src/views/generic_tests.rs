//! The generic view and `:api-resources`, through `update` and the view
//! model, as a user meets them: `:NAME`, the server's columns, rows that
//! follow the watch, and the browser watching only while the view is open.

use std::sync::Arc;

use serde_json::json;

use crate::cluster::browse::BrowseTarget;
use crate::cluster::discovery::{ResourceInfo, tests::sample};
use crate::cluster::watch::WatchMsg;
use crate::cluster::{Cache, Kind};
use crate::input::action::View;
use crate::input::keymap::Keymap;
use crate::state::AppState;
use crate::test_support::{cluster, now, resize};
use crate::update::{Effect, Msg, Updated, update};
use crate::view_model;

fn command(state: &mut AppState, cache: &Cache, line: &str) -> Updated {
    let keymap = Keymap::built_in_default();
    update(
        state,
        Msg::Key(":".parse().expect("key")),
        cache,
        &keymap,
        now(),
    );
    for c in line.chars() {
        let key = if c == ' ' {
            "space".to_string()
        } else {
            c.to_string()
        };
        update(
            state,
            Msg::Key(key.parse().expect("key")),
            cache,
            &keymap,
            now(),
        );
    }
    update(
        state,
        Msg::Key("enter".parse().expect("key")),
        cache,
        &keymap,
        now(),
    )
}

fn discovered(state: &mut AppState, cache: &Cache) {
    let keymap = Keymap::built_in_default();
    let msg = Msg::Watch(WatchMsg::Discovered(Ok(Arc::from(sample()))));
    update(state, msg, cache, &keymap, now());
    update(state, resize(20), cache, &keymap, now());
}

fn find(name: &str) -> Arc<ResourceInfo> {
    Arc::new(
        sample()
            .into_iter()
            .find(|r| r.plural == name)
            .expect("in the sample"),
    )
}

fn secret(ns: &str, name: &str, minutes: i64) -> serde_json::Value {
    let created = now() - chrono::Duration::minutes(minutes);
    json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": created.to_rfc3339(),
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
        "data": {"password": "aHVudGVyMg=="}, "type": "Opaque"})
}

/// The visible table: its title, column names and rows as text.
fn table(state: &AppState, cache: &Cache) -> (String, Vec<String>, Vec<Vec<String>>) {
    let vm = view_model::build(state, cache, &Keymap::built_in_default(), now());
    let cols = vm
        .table
        .columns
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    let rows = vm
        .table
        .rows
        .iter()
        .map(|r| r.iter().map(|c| c.text.clone()).collect())
        .collect();
    (vm.table.title, cols, rows)
}

#[test]
fn a_resource_name_opens_the_generic_view_and_the_browser_watches_it_while_open() {
    let cache = cluster();
    let mut state = AppState::new("test", None, false);
    let out = command(&mut state, &cache, "secret");
    assert!(
        state
            .message
            .as_ref()
            .is_some_and(|m| m.0.contains("still loading")),
        "{:?}",
        state.message
    );
    assert!(out.effects.is_empty());

    discovered(&mut state, &cache);
    let out = command(&mut state, &cache, "secret");
    assert_eq!(state.screen().view, View::Resource);
    let watched = BrowseTarget {
        resource: find("secrets"),
        namespace: None,
    };
    assert_eq!(out.effects, vec![Effect::Browse(Some(watched))]);

    // Another namespace watches again, scoped to it.
    let out = command(&mut state, &cache, "ns shop");
    let scoped = BrowseTarget {
        resource: find("secrets"),
        namespace: Some("shop".into()),
    };
    assert_eq!(out.effects, vec![Effect::Browse(Some(scoped))]);

    // A kind with a built-in view gets that view, and the browser stops.
    let out = command(&mut state, &cache, "deployments.apps");
    assert_eq!(state.screen().view, View::Workloads);
    assert_eq!(out.effects, vec![Effect::Browse(None)]);

    let out = command(&mut state, &cache, "pdos");
    assert!(out.effects.is_empty());
    let (text, _) = state.message.clone().expect("a message");
    assert!(
        text.starts_with("unknown command or resource \"pdos\"; did you mean :pods"),
        "{text}"
    );
    assert_eq!(state.screen().view, View::Workloads, "the view stays");
}

#[test]
fn the_generic_view_shows_the_servers_columns_never_a_secrets_values() {
    let cache = cluster();
    let mut state = AppState::new("test", None, false);
    discovered(&mut state, &cache);
    command(&mut state, &cache, "secret");
    let target = BrowseTarget {
        resource: find("secrets"),
        namespace: None,
    };
    let columns = ["Name", "Type", "Data"].map(|c| (c.to_uppercase(), c == "Data"));
    cache.browse.fill(
        target,
        &[
            secret("shop", "db", 5),
            secret("web", "tls", 90),
            secret("shop", "new", 1),
        ],
        Some((
            columns.to_vec(),
            vec![
                (
                    ("shop".into(), "db".into()),
                    vec!["db".into(), "Opaque".into(), "1".into()],
                ),
                (
                    ("web".into(), "tls".into()),
                    vec!["tls".into(), "kubernetes.io/tls".into(), "2".into()],
                ),
            ],
        )),
    );
    let keymap = Keymap::built_in_default();
    update(
        &mut state,
        Msg::Watch(WatchMsg::Changed(Kind::Resource)),
        &cache,
        &keymap,
        now(),
    );
    let (title, cols, rows) = table(&state, &cache);
    assert!(title.starts_with("secrets(all)[3]"), "{title}");
    assert_eq!(cols, ["NAMESPACE", "NAME", "TYPE", "DATA"]);
    assert_eq!(
        rows,
        [
            ["shop", "db", "Opaque", "1"],
            // Not in the Table yet: its name only, until the next fetch.
            ["shop", "new", "", ""],
            ["web", "tls", "kubernetes.io/tls", "2"],
        ]
    );

    // Sorting by DATA (numeric) puts the most first.
    for _ in 0..3 {
        update(
            &mut state,
            Msg::Key(">".parse().expect("key")),
            &cache,
            &keymap,
            now(),
        );
    }
    let (_, _, rows) = table(&state, &cache);
    assert_eq!(rows[0][1], "tls");

    // The filter works as on every view.
    command(&mut state, &cache, "");
    update(
        &mut state,
        Msg::Key("/".parse().expect("key")),
        &cache,
        &keymap,
        now(),
    );
    update(
        &mut state,
        Msg::Key("d".parse().expect("key")),
        &cache,
        &keymap,
        now(),
    );
    update(
        &mut state,
        Msg::Key("b".parse().expect("key")),
        &cache,
        &keymap,
        now(),
    );
    update(
        &mut state,
        Msg::Key("enter".parse().expect("key")),
        &cache,
        &keymap,
        now(),
    );
    let (_, _, rows) = table(&state, &cache);
    assert_eq!(rows, [["shop", "db", "Opaque", "1"]]);

    // YAML opens on what the browser keeps (metadata, no values) and asks
    // for the full object, whose values the fetch hides.
    let y = Msg::Key("y".parse().expect("key"));
    let out = update(&mut state, y, &cache, &keymap, now());
    let full = crate::full_yaml::FullRef {
        kind: crate::full_yaml::Projected::Resource,
        namespace: "shop".into(),
        name: "db".into(),
        resource: Some(find("secrets")),
    };
    assert_eq!(out.effects, vec![Effect::LoadFull(full)]);
    let pane = state.screen().text().cloned().expect("a YAML pane");
    assert!(
        pane.lines.iter().any(|l| l == "kind: Secret"),
        "{:?}",
        pane.lines
    );
    assert!(
        pane.lines.iter().any(|l| l == "  name: db"),
        "{:?}",
        pane.lines
    );
    let all = pane.lines.join("\n");
    assert!(!all.contains("aHVudGVyMg"), "{all}");
    assert!(!all.contains("password"), "{all}");

    // Described: the keys, read from the API, each value as its size.
    update(
        &mut state,
        Msg::Key("esc".parse().expect("key")),
        &cache,
        &keymap,
        now(),
    );
    let d = Msg::Key("d".parse().expect("key"));
    let out = update(&mut state, d, &cache, &keymap, now());
    let [Effect::LoadFull(target)] = out.effects.as_slice() else {
        panic!("describe reads the Secret: {:?}", out.effects);
    };
    let mut full_secret = secret("shop", "db", 5);
    crate::full_yaml::hide_values(&mut full_secret, &find("secrets"));
    let loaded = Msg::FullLoaded {
        target: target.clone(),
        result: Ok(full_secret),
    };
    assert!(update(&mut state, loaded, &cache, &keymap, now()).redraw);
    let pane = state.screen().text().cloned().expect("a describe pane");
    assert!(
        pane.title.starts_with("describe secret/db"),
        "{}",
        pane.title
    );
    assert!(
        pane.lines
            .iter()
            .any(|l| l == "password:  <hidden, 7 bytes>"),
        "{:?}",
        pane.lines
    );
    assert!(
        pane.lines.iter().any(|l| l.starts_with("Name:")),
        "{:?}",
        pane.lines
    );
    assert!(!pane.lines.join("\n").contains("aHVudGVyMg"));
}

#[test]
fn without_a_server_table_the_view_shows_name_and_age() {
    let cache = cluster();
    let mut state = AppState::new("test", Some("shop".into()), false);
    discovered(&mut state, &cache);
    command(&mut state, &cache, "crontabs.stable.example.com");
    let target = BrowseTarget {
        resource: find("crontabs"),
        namespace: Some("shop".into()),
    };
    let mut obj = secret("shop", "nightly", 90);
    obj["kind"] = json!("CronTab");
    obj["apiVersion"] = json!("stable.example.com/v1");
    cache.browse.fill(target, &[obj], None);
    let keymap = Keymap::built_in_default();
    update(
        &mut state,
        Msg::Watch(WatchMsg::Changed(Kind::Resource)),
        &cache,
        &keymap,
        now(),
    );
    let (title, cols, rows) = table(&state, &cache);
    assert!(
        title.starts_with("crontabs.stable.example.com(shop)[1]"),
        "{title}"
    );
    assert_eq!(cols, ["NAME", "AGE"]);
    assert_eq!(rows, [["nightly", "90m"]]);
}

#[test]
fn api_resources_lists_every_resource_filters_by_short_name_and_enter_opens_one() {
    let cache = cluster();
    let mut state = AppState::new("test", None, false);
    discovered(&mut state, &cache);
    command(&mut state, &cache, "api-resources");
    let (_, cols, rows) = table(&state, &cache);
    assert_eq!(
        cols,
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    );
    assert_eq!(rows.len(), sample().len());
    let keymap = Keymap::built_in_default();
    for k in ["/", "p", "d", "b", "enter"] {
        update(
            &mut state,
            Msg::Key(k.parse().expect("key")),
            &cache,
            &keymap,
            now(),
        );
    }
    let (_, _, rows) = table(&state, &cache);
    assert_eq!(
        rows,
        [[
            "poddisruptionbudgets",
            "pdb",
            "policy/v1",
            "true",
            "PodDisruptionBudget"
        ]]
    );
    let out = update(
        &mut state,
        Msg::Key("enter".parse().expect("key")),
        &cache,
        &keymap,
        now(),
    );
    assert_eq!(state.screen().view, View::Resource);
    let target = BrowseTarget {
        resource: find("poddisruptionbudgets"),
        namespace: None,
    };
    assert_eq!(out.effects, vec![Effect::Browse(Some(target))]);
}

#[test]
fn a_failed_watch_marks_the_generic_view_stale_by_its_resources_name() {
    let cache = cluster();
    let mut state = AppState::new("test", None, false);
    discovered(&mut state, &cache);
    command(&mut state, &cache, "cm");
    let keymap = Keymap::built_in_default();
    let failed = WatchMsg::Failed(Kind::Resource, "403 forbidden".into());
    update(&mut state, Msg::Watch(failed), &cache, &keymap, now());
    let vm = view_model::build(&state, &cache, &keymap, now());
    let (health, _) = vm.health.expect("a stale mark");
    assert!(health.starts_with("configmaps stale since"), "{health}");
    let (message, _) = state.message.clone().expect("a message");
    assert_eq!(
        message,
        "watch of configmaps failed: 403 forbidden; retrying"
    );

    // Back on a built-in view, the browser's mark goes with it.
    command(&mut state, &cache, "pods");
    let vm = view_model::build(&state, &cache, &keymap, now());
    assert_eq!(vm.health, None);
}

fn configmap(ns: &str, name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "uid": format!("{ns}-{name}")},
        "data": {"k": "v"}})
}

/// `:cm` with two ConfigMaps listed, as the watch would have them.
fn configmaps(readonly: bool, deletable: bool) -> (AppState, Cache) {
    let cache = cluster();
    let mut state = AppState::new("test", None, readonly);
    let keymap = Keymap::built_in_default();
    let mut resources = sample();
    for r in &mut resources {
        r.deletable = deletable;
    }
    let found = Arc::new(
        resources
            .iter()
            .find(|r| r.plural == "configmaps")
            .cloned()
            .expect("in the sample"),
    );
    let msg = Msg::Watch(WatchMsg::Discovered(Ok(Arc::from(resources))));
    update(&mut state, msg, &cache, &keymap, now());
    update(&mut state, resize(20), &cache, &keymap, now());
    command(&mut state, &cache, "cm");
    cache.browse.fill(
        BrowseTarget {
            resource: found,
            namespace: None,
        },
        &[configmap("shop", "settings"), configmap("web", "flags")],
        None,
    );
    update(
        &mut state,
        Msg::Watch(WatchMsg::Changed(Kind::Resource)),
        &cache,
        &keymap,
        now(),
    );
    (state, cache)
}

fn key(state: &mut AppState, cache: &Cache, k: &str) -> Updated {
    let keymap = Keymap::built_in_default();
    update(
        state,
        Msg::Key(k.parse().expect("key")),
        cache,
        &keymap,
        now(),
    )
}

#[test]
fn delete_on_a_generic_row_chooses_the_cascade_then_plans_that_object() {
    use kubedeck_core::actions::{Command, Propagation, ResourceRef};
    let (mut state, cache) = configmaps(false, true);
    let (title, _, rows) = table(&state, &cache);
    assert!(title.starts_with("configmaps(all)[2]"), "{title}");
    assert_eq!(rows[0][..2], ["shop", "settings"]);
    assert!(key(&mut state, &cache, "ctrl-d").effects.is_empty());
    let vm = view_model::build(&state, &cache, &Keymap::built_in_default(), now());
    let form: String = vm
        .dialog
        .map(|d| {
            let lines = d
                .lines
                .iter()
                .flat_map(|l| l.iter().map(|c| c.text.clone()));
            std::iter::once(d.title).chain(lines).collect()
        })
        .unwrap_or_default();
    assert!(
        form.contains("Delete configmap/settings") && form.contains("background"),
        "{form}"
    );
    key(&mut state, &cache, "right");
    key(&mut state, &cache, "right");
    let out = key(&mut state, &cache, "enter");
    let expected = Command::DeleteResource {
        object: ResourceRef {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            plural: "configmaps".into(),
            namespace: Some("shop".into()),
            name: "settings".into(),
        },
        propagation: Propagation::Orphan,
    };
    assert_eq!(
        out.effects,
        vec![Effect::Plan {
            id: 1,
            command: expected
        }]
    );
    // Nothing is removed before the watch says so.
    assert_eq!(table(&state, &cache).2.len(), 2);
}

#[test]
fn delete_on_a_generic_row_is_refused_read_only_and_where_the_server_has_no_delete() {
    let (mut state, cache) = configmaps(true, true);
    let out = key(&mut state, &cache, "ctrl-d");
    assert!(state.dialog.is_none());
    assert_eq!(
        out.effects,
        vec![Effect::AuditReadonlyRefusal {
            namespace: "shop".into(),
            object: "configmap/settings".into(),
            action: "delete".into(),
        }]
    );
    let (mut state, cache) = configmaps(false, false);
    let out = key(&mut state, &cache, "ctrl-d");
    assert!(out.effects.is_empty() && state.dialog.is_none());
    let (text, _) = state.message.clone().expect("a message");
    assert_eq!(
        text,
        "the server does not delete configmaps: the resource has no delete verb"
    );
}
