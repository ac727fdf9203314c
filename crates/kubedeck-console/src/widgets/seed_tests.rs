//! The pods, workloads, backups and HPA views on the seed cluster at
//! 100x30 and 160x45: snapshots, and on every visible row the parts of
//! the key columns that tell rows apart.

use crate::cluster::Kind;
use crate::cluster::watch::WatchMsg;
use crate::input::keymap::Keymap;
use crate::seed_fixture::seed_cluster;
use crate::state::AppState;
use crate::test_support::{draw, now, screen_text};
use crate::update::{Msg, update};
use crate::view_model;

/// The frame at `width`x`height` after `keys`, and the visible rows' cells
/// (uncut) by column name.
fn frame(keys: &[&str], width: u16, height: u16) -> (String, Vec<Vec<(&'static str, String)>>) {
    let cache = seed_cluster();
    let keymap = Keymap::built_in_default();
    let mut state = AppState::new("seed", None, false);
    let mut send = |msg| {
        update(&mut state, msg, &cache, &keymap, now());
    };
    send(Msg::Resize { width, height });
    for kind in Kind::ALL {
        send(Msg::Watch(WatchMsg::Synced(kind)));
    }
    for k in keys {
        send(Msg::Key(k.parse().expect("test key")));
    }
    let vm = view_model::build(&state, &cache, &keymap, now());
    let rows = vm
        .table
        .rows
        .iter()
        .map(|r| {
            vm.table
                .columns
                .iter()
                .zip(r)
                .map(|(c, cell)| (c.name, cell.text.clone()))
                .collect()
        })
        .collect();
    (
        screen_text(&draw(&state, &cache, &keymap, width, height)),
        rows,
    )
}

/// The end of a name that tells it apart: from its last `-`.
fn end(name: &str) -> &str {
    name.rfind('-').map_or(name, |i| &name[i..])
}

/// Checks every visible row's line (the table's rows start on line 4)
/// holds what `wanted` picks from its cells.
fn assert_rows_keep(
    shown: &str,
    rows: &[Vec<(&'static str, String)>],
    wanted: impl Fn(&str, &str) -> Option<String>,
) {
    let lines: Vec<&str> = shown.lines().collect();
    assert!(!rows.is_empty(), "{shown}");
    // Dropped columns show nothing to lose.
    let headers: Vec<&str> = lines[3]
        .trim_matches('│')
        .split("  ")
        .map(|h| h.trim().trim_end_matches(['↑', '↓']))
        .collect();
    for (i, row) in rows.iter().enumerate() {
        let line = lines.get(4 + i).copied().unwrap_or_default();
        for (column, text) in row.iter().filter(|(c, _)| headers.contains(c)) {
            if let Some(part) = wanted(column, text) {
                assert!(
                    line.contains(&part),
                    "{column} lost {part:?}: {line}\n{shown}"
                );
            }
        }
    }
}

#[test]
fn pods_keep_names_ends_node_numbers_namespaces_and_status_words() {
    for (w, h) in [(100, 30), (160, 45)] {
        let (shown, rows) = frame(&["1"], w, h);
        insta::assert_snapshot!(format!("seed_pods_{w}x{h}"), shown);
        assert_rows_keep(&shown, &rows, |column, text| match column {
            "NAMESPACE" | "READY" => Some(text.to_string()),
            "NAME" | "NODE" => Some(end(text).to_string()),
            "STATUS" => text.split(' ').next().map(str::to_string),
            _ => None,
        });
        if w == 160 {
            assert!(shown.contains("NODE"), "{shown}");
        }
    }
}

#[test]
fn workloads_keep_names_image_tags_and_namespaces() {
    for (w, h) in [(100, 30), (160, 45)] {
        let (shown, rows) = frame(&["2"], w, h);
        insta::assert_snapshot!(format!("seed_workloads_{w}x{h}"), shown);
        assert!(shown.contains("IMAGES"), "{shown}");
        assert_rows_keep(&shown, &rows, |column, text| match column {
            "NAMESPACE" | "READY" | "KIND" => Some(text.to_string()),
            "NAME" => Some(end(text).to_string()),
            "IMAGES" => text.rfind(':').map(|i| text[i..].to_string()),
            _ => None,
        });
    }
}

#[test]
fn backups_and_hpas_keep_their_key_columns() {
    for (w, h) in [(100, 30), (160, 45)] {
        let (shown, rows) = frame(&["6"], w, h);
        insta::assert_snapshot!(format!("seed_backups_{w}x{h}"), shown);
        assert_rows_keep(&shown, &rows, |column, text| match column {
            "NAMESPACE" | "SUCCEEDED" => Some(text.to_string()),
            "NAME" => Some(end(text).to_string()),
            "FRESHNESS" => text.split(' ').next().map(str::to_string),
            _ => None,
        });
        let (shown, rows) = frame(&["4"], w, h);
        insta::assert_snapshot!(format!("seed_hpas_{w}x{h}"), shown);
        assert_rows_keep(&shown, &rows, |column, text| match column {
            "NAMESPACE" | "CUR" | "MAX" => Some(text.to_string()),
            "NAME" => Some(end(text).to_string()),
            _ => None,
        });
    }
}
