//! `e`: the selected object's YAML in the user's editor, as `kubectl edit`,
//! from `update`'s side. The key asks the runtime to read the object and
//! hand the terminal to the editor (`run::edit`); what the editor saved
//! comes back as `Msg::Edited`: empty or unchanged cancels, else the edit
//! becomes a `Command::Replace`, planned by a server-side dry run and shown
//! as a diff in the confirm dialog. What the server refuses comes back as
//! `Msg::EditRefused`: a validation error offers the editor again with the
//! user's text kept, a conflict offers a reload of the latest version (the
//! user's changes shown in the editor and kept in a file). Pure.

use std::path::PathBuf;

use super::act;
use super::cluster::Cache;
use super::dialog::Dialog;
use super::input::action::View;
use super::state::AppState;
use super::theme::Role;
use super::update::{Effect, Updated};
use super::views::Scope;
use kubedeck_core::actions::edit::{self, EditedText, Saved};
use kubedeck_core::actions::{ActionError, Command, ResourceRef};

/// An edit under way: the object, the version it was read at, and the
/// texts (the YAML opened and the user's last save), kept until it is
/// applied or cancelled so that nothing typed is lost on a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditSession {
    pub object: ResourceRef,
    pub resource_version: String,
    pub text: EditedText,
}

/// What the runtime is asked to open in the editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditRequest {
    /// Read the object and open it; `earlier` is an edit a conflict
    /// refused, shown in the editor's notes and kept in a file.
    Open {
        object: ResourceRef,
        earlier: Option<EditedText>,
    },
    /// Open the user's own text again, with what was wrong with it.
    Again {
        session: EditSession,
        problem: String,
    },
}

/// How an editor session ended, as the runtime saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edited {
    /// Nothing was opened (the object could not be read, the file not
    /// written, the editor not started): why, and the session it was
    /// for, if any, so that the user's text survives.
    NotOpened {
        object: ResourceRef,
        error: String,
        session: Option<EditSession>,
    },
    /// The editor ran: the file it left, or why it failed.
    Closed {
        session: EditSession,
        file: Result<String, String>,
        /// Where a copy of an earlier, refused edit was kept.
        kept: Option<PathBuf>,
    },
}

/// What a refused edit offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Remedy {
    /// Back to the editor with the user's text and the problem on top.
    EditAgain,
    /// Read the latest version and edit it, the user's changes shown.
    Reload,
}

/// The dialog of a refused or failed edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditProblem {
    pub title: String,
    pub message: String,
    pub remedy: Remedy,
    /// Whether the user's own text is kept (an editor that failed before
    /// anything was read back leaves the object as opened).
    pub kept: bool,
}

fn say(state: &mut AppState, text: impl Into<String>, role: Role) -> Updated {
    state.message = Some((text.into(), role));
    Updated::redraw()
}

/// The selected row's object as discovery names its resource.
fn selected(state: &mut AppState, cache: &Cache) -> Result<ResourceRef, Updated> {
    let screen = state.screen();
    if screen.panel().is_some() || screen.text().is_some() {
        return Err(say(
            state,
            "edit works on a table row: go back to the list (esc)",
            Role::Muted,
        ));
    }
    if screen.view == View::Pods && matches!(screen.query.scope, Scope::Pod { .. }) {
        return Err(say(
            state,
            "a container is edited in its pod: go back to the pod (esc) and press e there",
            Role::Muted,
        ));
    }
    let generic = (screen.view == View::Resource)
        .then(|| screen.query.resource.clone())
        .flatten();
    let (key, obj) = super::update::selected_object(state, cache)?;
    let (ns, name) = key;
    let info = match generic {
        Some(info) => Some((*info).clone()),
        None => {
            let api_version = obj["apiVersion"].as_str().unwrap_or_default();
            let kind = obj["kind"].as_str().unwrap_or_default();
            state
                .resources
                .iter()
                .find(|r| r.api_version() == api_version && r.kind == kind)
                .cloned()
        }
    };
    let Some(info) = info else {
        let what = obj["kind"].as_str().unwrap_or("this row");
        let why = if state.resources.is_empty() {
            "the server's list of resources has not arrived yet; try again in a moment"
        } else {
            "the server does not list its resource"
        };
        return Err(say(
            state,
            format!("cannot edit {what}: {why}"),
            Role::Warning,
        ));
    };
    // A generic row's name is the object's; a built-in row's may not be
    // (workloads key `Kind/name`), so the object's own name is taken.
    let name = obj["metadata"]["name"]
        .as_str()
        .map_or(name, str::to_string);
    Ok(ResourceRef {
        group: info.group.clone(),
        version: info.version.clone(),
        kind: info.kind.clone(),
        plural: info.plural.clone(),
        namespace: info.namespaced.then_some(ns),
        name,
    })
}

/// `edit` on the selected row: refused at once when read-only (nothing
/// typed is then lost), else the runtime opens the editor.
pub(crate) fn on_edit(state: &mut AppState, cache: &Cache) -> Updated {
    let object = match selected(state, cache) {
        Ok(o) => o,
        Err(out) => return out,
    };
    if state.readonly {
        let e = match &state.blocked {
            Some(why) => ActionError::Blocked(why.clone()),
            None => ActionError::ReadOnly {
                context: state.context.clone(),
            },
        };
        let mut out = say(state, e.to_string(), Role::Warning);
        out.effects.push(Effect::AuditReadonlyRefusal {
            namespace: object.namespace.clone().unwrap_or_default(),
            object: object.slashed(),
            action: "edit".into(),
        });
        return out;
    }
    state.edit = None;
    let text = format!("opening {} in the editor…", object.slashed());
    state.message = Some((text, Role::Info));
    Updated::with(Effect::Edit(EditRequest::Open {
        object,
        earlier: None,
    }))
}

/// The editor closed: cancel, show what is wrong, or plan the replace.
pub(crate) fn on_edited(state: &mut AppState, edited: Edited) -> Updated {
    match edited {
        Edited::NotOpened {
            object,
            error,
            session: None,
        } => say(
            state,
            format!("cannot edit {}: {error}", object.slashed()),
            Role::Danger,
        ),
        Edited::NotOpened {
            error,
            session: Some(session),
            ..
        } => problem(state, session, "The editor could not be opened", error),
        Edited::Closed {
            session,
            file: Err(e),
            ..
        } => problem(
            state,
            session,
            "The editor failed",
            format!("{e}; nothing was changed"),
        ),
        Edited::Closed {
            mut session,
            file: Ok(file),
            kept,
        } => {
            let read = edit::saved(
                &session.object,
                &session.resource_version,
                &session.text.original,
                &session.text.status,
                &file,
            );
            match read {
                Ok(Saved::Empty) => {
                    state.edit = None;
                    say(
                        state,
                        "edit cancelled: the saved file was empty; nothing was changed",
                        Role::Muted,
                    )
                }
                Ok(Saved::Unchanged) => {
                    state.edit = None;
                    say(state, "edit cancelled, no changes", Role::Muted)
                }
                Err(e) => {
                    session.text.edited = edit::without_comments(&file);
                    let object = session.object.slashed();
                    problem(state, session, &format!("Cannot save {object}"), e)
                }
                Ok(Saved::Edit(cmd)) => {
                    if let Command::Replace { text, .. } = &*cmd {
                        session.text = (**text).clone();
                    }
                    state.edit = Some(session);
                    let out = act::plan(state, *cmd);
                    if let Some(path) = kept {
                        state.message = Some((
                            format!("your earlier edit is kept in {}", path.display()),
                            Role::Info,
                        ));
                    }
                    out
                }
            }
        }
    }
}

/// The server refused the edit: in its dry run (`plan`, the planning
/// dialog's id) or in the replace itself (None).
pub(crate) fn on_refused(
    state: &mut AppState,
    plan: Option<u64>,
    object: &ResourceRef,
    error: ActionError,
) -> Updated {
    if let Some(id) = plan
        && !matches!(&state.dialog, Some(Dialog::Planning { id: waiting, .. }) if *waiting == id)
    {
        // The user closed that dialog since.
        return Updated::default();
    }
    let Some(session) = state.edit.clone().filter(|s| s.object == *object) else {
        let text = format!("the edit of {} failed: {error}", object.slashed());
        return say(state, text, Role::Danger);
    };
    let object = session.object.slashed();
    if let ActionError::Stale { .. } = &error {
        state.dialog = Some(Dialog::Edit(EditProblem {
            title: format!("Conflict: {object} was changed meanwhile"),
            message: format!(
                "{error}. Reload opens the latest version in the editor, with your changes shown to make again (and kept in a file)."
            ),
            remedy: Remedy::Reload,
            kept: true,
        }));
        state.message = Some((error.to_string(), Role::Danger));
        return Updated::redraw();
    }
    let title = format!("The server refused the edit of {object}");
    problem(state, session, &title, error.to_string())
}

/// A dialog that offers the editor again, the user's text kept.
fn problem(state: &mut AppState, session: EditSession, title: &str, message: String) -> Updated {
    let kept = !session.text.edited.is_empty();
    state.edit = Some(session);
    state.message = None;
    state.dialog = Some(Dialog::Edit(EditProblem {
        title: title.to_string(),
        message,
        remedy: Remedy::EditAgain,
        kept,
    }));
    Updated::redraw()
}

/// Enter on an edit's problem dialog: what it offers.
pub(crate) fn on_remedy(state: &mut AppState, p: EditProblem) -> Updated {
    state.dialog = None;
    let Some(session) = state.edit.clone() else {
        return say(state, "the edit is gone: press e again", Role::Warning);
    };
    let object = session.object.slashed();
    let request = match p.remedy {
        Remedy::EditAgain => EditRequest::Again {
            session,
            problem: p.message,
        },
        Remedy::Reload => EditRequest::Open {
            object: session.object,
            earlier: Some(session.text),
        },
    };
    state.message = Some((format!("opening {object} in the editor…"), Role::Info));
    Updated::with(Effect::Edit(request))
}

/// The replace landed, or failed otherwise than refused: the edit is over.
pub(crate) fn on_executed(state: &mut AppState, command: &Command) {
    if matches!(command, Command::Replace { .. }) {
        state.edit = None;
    }
}

/// The editor: `$KUBE_EDITOR`, else `$EDITOR`, else vi, as kubectl.
pub fn editor(kube_editor: Option<String>, editor: Option<String>) -> String {
    [kube_editor, editor]
        .into_iter()
        .flatten()
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string())
}

/// The editor's notes after a conflict: what happened, the user's changes
/// as a diff to make again, and where their file is kept.
pub fn conflict_notes(
    object: &ResourceRef,
    earlier: &EditedText,
    kept: Option<&str>,
) -> Vec<String> {
    let mut notes = vec![format!(
        "{} was changed by someone else while you edited it, so your edit was not applied.\nBelow is the latest version. Your changes, to make again:",
        object.slashed()
    )];
    let diff = edit::unified_diff(&earlier.original, &earlier.edited, edit::DIFF_CONTEXT);
    notes.push(diff.join("\n"));
    notes.push(match kept {
        Some(path) => format!("Your whole edited file is kept in {path}"),
        None if edit::is_secret(object) => {
            "(A Secret's edit is kept in no file: its values stay out of kubedeck's files.)".into()
        }
        None => "(Your edited file could not be kept in a file.)".into(),
    });
    notes
}

#[cfg(test)]
#[path = "edit_tests.rs"]
mod tests;
