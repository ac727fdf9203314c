//! The editor owns the terminal while it runs, as a shell does
//! (`run::shell`): the object is read fresh (managedFields and status
//! stripped) into a file of the user's own (0600, created new), the
//! console leaves raw mode and the alternate screen, runs `$KUBE_EDITOR`,
//! else `$EDITOR`, else vi, on it, and however the editor ends (saved,
//! failed, killed) takes the terminal back, reads the file and deletes it.
//! Nothing is drawn meanwhile: the loop waits here.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::LeaveAlternateScreen;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use ratatui::DefaultTerminal;

use super::terminal::{Caught, Signals};
use crate::edit::{EditRequest, EditSession, Edited, conflict_notes, editor};
use crate::update::Msg;
use kubedeck_core::actions::ResourceRef;
use kubedeck_core::actions::edit::{self, EditedText};
use kubedeck_core::private_file;

pub(super) struct Handover<'a> {
    pub client: &'a Client,
    /// How long reading the object may take.
    pub timeout: Duration,
    /// Where an edit a conflict refused is kept; None without a home.
    pub edits_dir: Option<PathBuf>,
}

/// SIGINT's and SIGQUIT's exit statuses: in cooked mode ctrl-c and ctrl-\
/// reach the whole foreground group, the console with the editor; they
/// were the editor's.
const EDITOR_SIGNALS: [i32; 2] = [128 + 2, 128 + 3];

impl Handover<'_> {
    /// Runs the editor for `request`; the message for `update`, or the
    /// status to exit with when a terminating signal came for kubedeck
    /// itself meanwhile.
    pub(super) async fn run(
        &self,
        terminal: &mut DefaultTerminal,
        signals: &mut Signals,
        request: EditRequest,
    ) -> Result<Msg, i32> {
        let (session, notes, kept) = match self.prepare(request).await {
            Ok(p) => p,
            Err(edited) => return Ok(Msg::Edited(Box::new(edited))),
        };
        let text = match (&session.text.edited, notes.is_empty()) {
            (edited, false) if !edited.is_empty() => edit::editor_text(edited, &notes),
            _ => edit::editor_text(&session.text.original, &notes),
        };
        let path = match write_file(&session.object, &text) {
            Ok(p) => p,
            Err(e) => {
                return Ok(Msg::Edited(Box::new(Edited::NotOpened {
                    object: session.object.clone(),
                    error: format!("cannot write the file to edit: {e}"),
                    session: Some(session),
                })));
            }
        };
        let editor = editor(
            std::env::var("KUBE_EDITOR").ok(),
            std::env::var("EDITOR").ok(),
        );
        hand_over();
        let ran = run_editor(&editor, &path, signals).await;
        super::shell::take_back(terminal);
        let file = match ran {
            Ran::Exit(code) => {
                remove(&path);
                return Err(code);
            }
            Ran::Failed(why) => Err(why),
            Ran::Saved => std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the edited file back: {e}")),
        };
        remove(&path);
        tracing::info!(
            "the editor on {} closed: {}",
            session.object.slashed(),
            match &file {
                Ok(_) => "saved",
                Err(e) => e.as_str(),
            }
        );
        Ok(Msg::Edited(Box::new(Edited::Closed {
            session,
            file,
            kept,
        })))
    }

    /// The session to edit, the notes over its text, and where an earlier
    /// edit was kept.
    async fn prepare(
        &self,
        request: EditRequest,
    ) -> Result<(EditSession, Vec<String>, Option<PathBuf>), Edited> {
        match request {
            EditRequest::Again { session, problem } => Ok((session, vec![problem], None)),
            EditRequest::Open { object, earlier } => {
                let session = self
                    .read(&object)
                    .await
                    .map_err(|error| Edited::NotOpened {
                        object: object.clone(),
                        error,
                        session: None,
                    })?;
                let Some(earlier) = earlier else {
                    return Ok((session, Vec::new(), None));
                };
                let kept = self.keep(&object, &earlier);
                let shown = kept.as_ref().map(|p| p.display().to_string());
                let notes = conflict_notes(&object, &earlier, shown.as_deref());
                Ok((session, notes, kept))
            }
        }
    }

    /// Reads the object fresh, bounded by the timeout.
    async fn read(&self, object: &ResourceRef) -> Result<EditSession, String> {
        let ar = ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(&object.group, &object.version, &object.kind),
            &object.plural,
        );
        let api: Api<DynamicObject> = match &object.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        let got = tokio::time::timeout(self.timeout, api.get(&object.name))
            .await
            .map_err(|_| format!("no answer from the API server within {:?}", self.timeout))?
            .map_err(|e| e.to_string())?;
        let mut obj = serde_json::to_value(got).map_err(|e| e.to_string())?;
        let resource_version = obj["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let status = match obj.get("status") {
            Some(s) if !s.is_null() => s.to_string(),
            _ => String::new(),
        };
        edit::strip(&mut obj);
        Ok(EditSession {
            object: object.clone(),
            resource_version,
            text: EditedText {
                original: edit::to_yaml(&obj)?,
                edited: String::new(),
                status,
            },
        })
    }

    /// Keeps a refused edit's file under the state folder, 0600; a
    /// Secret's nowhere (its values stay out of kubedeck's files).
    fn keep(&self, object: &ResourceRef, earlier: &EditedText) -> Option<PathBuf> {
        if edit::is_secret(object) {
            return None;
        }
        let dir = self.edits_dir.as_ref()?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
        let path = dir.join(format!("{}-{stamp}.yaml", file_stem(object)));
        let written =
            std::fs::create_dir_all(dir).and_then(|()| private_file::write(&path, &earlier.edited));
        match written {
            Ok(()) => Some(path),
            Err(e) => {
                tracing::warn!("cannot keep the edit in {}: {e}", path.display());
                None
            }
        }
    }
}

/// `configmap-demo-app`: the object in a file name.
fn file_stem(object: &ResourceRef) -> String {
    let mut parts = vec![object.kind.to_lowercase()];
    parts.extend(object.namespace.clone());
    parts.push(object.name.clone());
    parts
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A new file of the user's own in the temporary folder, holding `text`.
fn write_file(object: &ResourceRef, text: &str) -> io::Result<PathBuf> {
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let name = format!(
        "kubedeck-edit-{}-{}-{nanos}.yaml",
        file_stem(object),
        std::process::id()
    );
    let path = std::env::temp_dir().join(name);
    let mut file = private_file::create_new(&path)?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    Ok(path)
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!("cannot delete the edited file {}: {e}", path.display());
    }
}

/// The terminal as a program started from the shell expects it: cooked
/// mode, the main screen, a cursor, no mouse reporting.
fn hand_over() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        crossterm::event::DisableMouseCapture,
        LeaveAlternateScreen,
        Show
    );
    let _ = crossterm::terminal::disable_raw_mode();
    let _ = out.flush();
}

enum Ran {
    /// Exited 0: the file holds what was saved.
    Saved,
    Failed(String),
    /// kubedeck itself was asked to stop.
    Exit(i32),
}

/// Runs the editor on `path` and waits for it. The editor's words go
/// through `sh -c`, as kubectl runs an editor with arguments
/// (`EDITOR="code --wait"`).
async fn run_editor(editor: &str, path: &Path, signals: &mut Signals) -> Ran {
    let mut child = match tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("kubedeck-edit")
        .arg(path)
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Ran::Failed(format!("cannot start the editor {editor:?}: {e}")),
    };
    loop {
        tokio::select! {
            status = child.wait() => {
                return match status {
                    Ok(s) if s.success() => Ran::Saved,
                    Ok(s) => Ran::Failed(match s.code() {
                        Some(code) => format!("the editor {editor:?} exited with status {code}"),
                        None => format!("the editor {editor:?} was killed ({s})"),
                    }),
                    Err(e) => Ran::Failed(format!("cannot wait for the editor: {e}")),
                };
            }
            caught = signals.recv() => match caught {
                Caught::Exit(code) if EDITOR_SIGNALS.contains(&code) => {}
                Caught::Exit(code) => {
                    let _ = child.kill().await;
                    return Ran::Exit(code);
                }
                // ctrl-z stopped the editor with us; the console has no
                // shell to go back to meanwhile, so the editor goes on.
                Caught::Suspend => {
                    if let Some(pid) = child.id() {
                        let _ = std::process::Command::new("kill")
                            .args(["-CONT", &pid.to_string()])
                            .status();
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_carry_the_object_and_nothing_a_path_would_read() {
        let object = ResourceRef {
            group: "rbac.authorization.k8s.io".into(),
            version: "v1".into(),
            kind: "ClusterRole".into(),
            plural: "clusterroles".into(),
            namespace: None,
            name: "system:controller:x/../y".into(),
        };
        assert_eq!(file_stem(&object), "clusterrole-system_controller_x_.._y");
        let path = write_file(&object, "data: {}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "data: {}\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        remove(&path);
        assert!(!path.exists());
    }
}
