//! The edit flow through `update`, as a user meets it: `e` on a row, what
//! the editor saved, the dry run's answer, a refusal's dialog and its
//! remedy, with the texts kept throughout.

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::cluster::browse::BrowseTarget;
use crate::cluster::discovery::tests::sample;
use crate::cluster::watch::WatchMsg;
use crate::cluster::{Cache, Kind};
use crate::input::keymap::Keymap;
use crate::state::Screen;
use crate::test_support::{cluster, now, resize};
use crate::update::{Msg, update};
use crate::view_model;
use crate::views::Query;
use kubedeck_core::actions::{Confirmation, Permission};
use kubedeck_core::config::Config;

const ORIGINAL: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: shop\n  resourceVersion: '7'\ndata:\n  mode: blue\n";

struct T {
    state: AppState,
    cache: Cache,
    keymap: Keymap,
}

impl T {
    fn new(readonly: bool) -> T {
        let mut t = T {
            state: AppState::new("kind-dev", None, readonly),
            cache: cluster(),
            keymap: Keymap::built_in_default(),
        };
        t.msg(Msg::Watch(WatchMsg::Discovered(Ok(Arc::from(sample())))));
        t.msg(resize(30));
        t
    }

    /// On the generic view of ConfigMaps, with `app` in `shop`.
    fn on_configmaps(readonly: bool) -> T {
        let mut t = T::new(readonly);
        let cm = Arc::new(
            sample()
                .into_iter()
                .find(|r| r.plural == "configmaps")
                .expect("in the sample"),
        );
        let query = Query {
            resource: Some(cm.clone()),
            ..Query::default()
        };
        t.state.stack = vec![Screen::new(View::Resource, query, "configmaps")];
        let target = BrowseTarget {
            resource: cm,
            namespace: None,
        };
        t.cache.browse.fill(
            target,
            &[json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "app", "namespace": "shop", "creationTimestamp": now().to_rfc3339()}})],
            None,
        );
        t.msg(Msg::Watch(WatchMsg::Changed(Kind::Resource)));
        t
    }

    fn msg(&mut self, msg: Msg) -> Updated {
        update(&mut self.state, msg, &self.cache, &self.keymap, now())
    }

    fn key(&mut self, k: &str) -> Updated {
        self.msg(Msg::Key(k.parse().expect("test key parses")))
    }

    fn said(&self) -> String {
        self.state
            .message
            .as_ref()
            .map(|m| m.0.clone())
            .unwrap_or_default()
    }

    /// The editor closed on `file`.
    fn saved(&mut self, file: &str) -> Updated {
        let session = EditSession {
            object: app(),
            resource_version: "7".into(),
            text: EditedText {
                original: ORIGINAL.into(),
                ..EditedText::default()
            },
        };
        self.msg(Msg::Edited(Box::new(Edited::Closed {
            session,
            file: Ok(file.to_string()),
            kept: None,
        })))
    }

    /// Saves an edit and answers its dry run with `error`.
    fn refused(&mut self, error: ActionError) {
        let out = self.saved(&ORIGINAL.replace("blue", "green"));
        let Some(Effect::Plan { id, .. }) = out.effects.first() else {
            panic!("expected a plan, got {:?}", out.effects);
        };
        let id = *id;
        self.msg(Msg::EditRefused {
            plan: Some(id),
            object: Box::new(app()),
            error,
        });
    }
}

fn app() -> ResourceRef {
    ResourceRef {
        group: String::new(),
        version: "v1".into(),
        kind: "ConfigMap".into(),
        plural: "configmaps".into(),
        namespace: Some("shop".into()),
        name: "app".into(),
    }
}

#[test]
fn e_on_a_generic_row_opens_its_object_in_the_editor() {
    let mut t = T::on_configmaps(false);
    let out = t.key("e");
    assert_eq!(
        out.effects,
        vec![Effect::Edit(EditRequest::Open {
            object: app(),
            earlier: None
        })]
    );
    assert_eq!(t.said(), "opening configmap/app in the editor…");
}

#[test]
fn e_on_a_built_in_row_names_its_resource_by_discovery() {
    let mut t = T::new(false);
    t.state.stack = vec![Screen::new(View::Workloads, Query::default(), "workloads")];
    for kind in [Kind::Deployment, Kind::StatefulSet, Kind::DaemonSet] {
        t.msg(Msg::Watch(WatchMsg::Synced(kind)));
    }
    let (ns, key) = t.state.screen().selected_key().cloned().expect("a row");
    let out = t.key("e");
    let [Effect::Edit(EditRequest::Open { object, .. })] = out.effects.as_slice() else {
        panic!("expected an edit, got {:?} ({})", out.effects, t.said());
    };
    let (kind, name) = key.split_once('/').expect("workload rows key Kind/name");
    assert_eq!(object.kind, kind);
    assert_eq!(object.name, name, "the object's name, not the row's key");
    assert_eq!(object.namespace.as_deref(), Some(ns.as_str()));
    assert_eq!(object.group, "apps");
}

#[test]
fn read_only_refuses_before_the_editor_opens_and_is_audited() {
    let mut t = T::on_configmaps(true);
    let out = t.key("e");
    assert_eq!(
        out.effects,
        vec![Effect::AuditReadonlyRefusal {
            namespace: "shop".into(),
            object: "configmap/app".into(),
            action: "edit".into(),
        }]
    );
    assert!(t.said().contains("read-only"), "{}", t.said());
}

#[test]
fn an_unchanged_or_empty_save_cancels_and_sends_nothing() {
    let mut t = T::on_configmaps(false);
    let out = t.saved(&edit::editor_text(ORIGINAL, &[]));
    assert!(out.effects.is_empty());
    assert_eq!(t.said(), "edit cancelled, no changes");
    assert!(t.state.edit.is_none() && t.state.dialog.is_none());
    let out = t.saved("# nothing\n\n");
    assert!(out.effects.is_empty());
    assert!(
        t.said()
            .starts_with("edit cancelled: the saved file was empty")
    );
}

#[test]
fn a_change_is_planned_and_its_confirm_dialog_shows_the_diff_and_the_command() {
    let mut t = T::on_configmaps(false);
    let out = t.saved(&ORIGINAL.replace("blue", "green"));
    let [Effect::Plan { id, command }] = out.effects.as_slice() else {
        panic!("expected a plan, got {:?}", out.effects);
    };
    assert!(
        matches!(command, Command::Replace { changed, resource_version, .. }
            if changed == &["data.mode"] && resource_version == "7"),
        "{command:?}"
    );
    assert!(matches!(t.state.dialog, Some(Dialog::Planning { .. })));
    let before = edit::parse(ORIGINAL).unwrap().unwrap();
    let mut after = before.clone();
    after["data"]["mode"] = json!("green");
    let confirmation =
        Confirmation::new(command.clone(), "kind-dev", &Config::default(), Vec::new())
            .with_diff(edit::dialog_diff(&app(), &before, &after));
    t.msg(Msg::Planned {
        id: *id,
        result: Ok(confirmation),
        permission: Permission::Allowed,
    });
    let vm = view_model::build(&t.state, &t.cache, &t.keymap, now());
    let dialog = vm.dialog.expect("the confirm dialog");
    assert_eq!(dialog.title, "Edit configmap/app: 1 field changed");
    let lines: Vec<String> = dialog
        .lines
        .iter()
        .map(|l| l.iter().map(|c| c.text.as_str()).collect())
        .collect();
    let has = |s: &str| lines.iter().any(|l| l.contains(s));
    assert!(
        has("kubectl replace -f - -n shop --context kind-dev"),
        "{lines:?}"
    );
    assert!(has("-  mode: blue") && has("+  mode: green"), "{lines:?}");
    let added = dialog
        .lines
        .iter()
        .flatten()
        .find(|c| c.text.contains("+  mode: green"))
        .expect("the added line");
    assert_eq!(added.role, Role::Ok);
    // Confirmed, it runs; once done, the edit is over.
    let out = t.key("enter");
    assert!(matches!(out.effects.as_slice(), [Effect::Execute(_)]));
    assert!(t.state.edit.is_some());
    t.msg(Msg::Executed {
        command: command.clone(),
        result: Ok("configmap/app edited".into()),
    });
    assert!(t.state.edit.is_none());
    assert_eq!(t.said(), "configmap/app edited");
}

#[test]
fn a_validation_error_offers_the_editor_again_with_the_users_text() {
    let mut t = T::on_configmaps(false);
    t.refused(ActionError::Rejected(
        "ConfigMap \"app\" is invalid: data[bad key!]: Invalid value".into(),
    ));
    let Some(Dialog::Edit(p)) = &t.state.dialog else {
        panic!("expected the edit's dialog, got {:?}", t.state.dialog);
    };
    assert_eq!(p.remedy, Remedy::EditAgain);
    let vm = view_model::build(&t.state, &t.cache, &t.keymap, now());
    let text: String = vm
        .dialog
        .expect("a dialog")
        .lines
        .iter()
        .flatten()
        .map(|c| c.text.clone())
        .collect();
    assert!(text.contains("data[bad key!]: Invalid value"), "{text}");
    assert!(
        text.contains("back to the editor (your edit is kept)"),
        "{text}"
    );
    let out = t.key("enter");
    let [Effect::Edit(EditRequest::Again { session, problem })] = out.effects.as_slice() else {
        panic!("expected the editor again, got {:?}", out.effects);
    };
    assert!(
        session.text.edited.contains("mode: green"),
        "the edit is kept"
    );
    assert!(problem.contains("data[bad key!]"));
}

#[test]
fn a_conflict_offers_a_reload_that_keeps_the_users_edit() {
    let mut t = T::on_configmaps(false);
    t.refused(ActionError::Stale {
        object: "configmap/app".into(),
        message: "the object has been modified".into(),
    });
    let Some(Dialog::Edit(p)) = &t.state.dialog else {
        panic!("expected the edit's dialog, got {:?}", t.state.dialog);
    };
    assert_eq!(p.remedy, Remedy::Reload);
    assert!(
        p.title
            .starts_with("Conflict: configmap/app was changed meanwhile")
    );
    let out = t.key("enter");
    let [
        Effect::Edit(EditRequest::Open {
            object,
            earlier: Some(earlier),
        }),
    ] = out.effects.as_slice()
    else {
        panic!("expected a reload, got {:?}", out.effects);
    };
    assert_eq!(object, &app());
    assert!(earlier.edited.contains("mode: green"));
    assert_eq!(earlier.original, ORIGINAL);
}

#[test]
fn esc_on_a_refused_edit_cancels_it() {
    let mut t = T::on_configmaps(false);
    t.refused(ActionError::Rejected("no".into()));
    let out = t.key("esc");
    assert!(out.effects.is_empty());
    assert!(t.state.dialog.is_none() && t.state.edit.is_none());
    assert_eq!(t.said(), "cancelled: nothing was changed");
}

#[test]
fn a_refusal_for_a_dialog_since_closed_is_ignored() {
    let mut t = T::on_configmaps(false);
    let out = t.saved(&ORIGINAL.replace("blue", "green"));
    let Some(Effect::Plan { id, .. }) = out.effects.first() else {
        panic!("expected a plan");
    };
    let id = *id;
    t.key("esc");
    t.msg(Msg::EditRefused {
        plan: Some(id),
        object: Box::new(app()),
        error: ActionError::Rejected("late".into()),
    });
    assert!(t.state.dialog.is_none());
}

#[test]
fn a_failed_editor_keeps_the_text_and_offers_it_again() {
    let mut t = T::on_configmaps(false);
    let session = EditSession {
        object: app(),
        resource_version: "7".into(),
        text: EditedText {
            original: ORIGINAL.into(),
            edited: ORIGINAL.replace("blue", "green"),
            status: String::new(),
        },
    };
    t.msg(Msg::Edited(Box::new(Edited::Closed {
        session,
        file: Err("the editor \"vi\" exited with status 1".into()),
        kept: None,
    })));
    let Some(Dialog::Edit(p)) = &t.state.dialog else {
        panic!("expected the edit's dialog");
    };
    assert!(
        p.message
            .contains("exited with status 1; nothing was changed")
    );
    let out = t.key("enter");
    let [Effect::Edit(EditRequest::Again { session, .. })] = out.effects.as_slice() else {
        panic!("expected the editor again, got {:?}", out.effects);
    };
    assert!(session.text.edited.contains("mode: green"));
}

#[test]
fn the_editor_is_kube_editor_then_editor_then_vi() {
    assert_eq!(editor(Some("nano".into()), Some("vim".into())), "nano");
    assert_eq!(editor(Some(" ".into()), Some("vim".into())), "vim");
    assert_eq!(editor(None, None), "vi");
}

#[test]
fn a_reload_shows_the_users_changes_and_where_they_are_kept() {
    let earlier = EditedText {
        original: ORIGINAL.into(),
        edited: ORIGINAL.replace("blue", "green"),
        status: String::new(),
    };
    let notes = conflict_notes(
        &app(),
        &earlier,
        Some("/home/u/.local/state/kubedeck/edits/x.yaml"),
    );
    let all = notes.join("\n");
    assert!(all.contains("was changed by someone else"), "{all}");
    assert!(all.contains("-  mode: blue\n+  mode: green"), "{all}");
    assert!(all.contains("kept in /home/u/.local/state/kubedeck/edits/x.yaml"));
    let secret = ResourceRef {
        kind: "Secret".into(),
        plural: "secrets".into(),
        ..app()
    };
    let notes = conflict_notes(&secret, &earlier, None).join("\n");
    assert!(notes.contains("kept in no file"), "{notes}");
}

#[test]
fn a_replace_refused_for_another_object_only_says_so() {
    let mut t = T::on_configmaps(false);
    t.saved(&ORIGINAL.replace("blue", "green"));
    let other = ResourceRef {
        name: "other".into(),
        ..app()
    };
    let stale = || ActionError::Stale {
        object: "configmap/other".into(),
        message: "the object has been modified".into(),
    };
    t.msg(Msg::EditRefused {
        plan: None,
        object: Box::new(other),
        error: stale(),
    });
    assert!(
        !matches!(t.state.dialog, Some(Dialog::Edit(_))),
        "no dialog for the edit under way: {:?}",
        t.state.dialog
    );
    assert!(
        t.said().starts_with("the edit of configmap/other failed:"),
        "{}",
        t.said()
    );
    assert!(t.state.edit.as_ref().is_some_and(|s| s.object == app()));

    t.msg(Msg::EditRefused {
        plan: None,
        object: Box::new(app()),
        error: stale(),
    });
    let Some(Dialog::Edit(p)) = &t.state.dialog else {
        panic!("expected the edit's dialog, got {:?}", t.state.dialog);
    };
    assert_eq!(p.remedy, Remedy::Reload);
}
