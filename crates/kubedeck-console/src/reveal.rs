//! Revealing one key of a Secret, from `update`'s side. `decode` (`x`, as
//! k9s's decode; on other rows `x` stays the recovery test) on a Secret's
//! row or on a pane over it reads the Secret's key names, offers them in a
//! small picker when there is more than one, and asks the runtime for the
//! chosen key's value, which comes back decoded for a pane of its own. The
//! value lives in that pane only: Esc drops it with the pane. The gate
//! (read-only, RBAC, audit) is the core's, `kubedeck_core::reveal`; a
//! read-only context is refused here first, before any key is read, and
//! audited as the core would.

use kube::{Api, Client};

use super::dialog::{Dialog, Field, Form, FormKind};
use super::input::action::{Action, View};
use super::input::key::Key;
use super::input::keymap::{Keymap, Mode};
use super::state::{AppState, Body};
use super::theme::Role;
use super::update::{Effect, Msg, Updated};
use super::views::describe::TextPane;
use k8s_openapi::api::core::v1::Secret;
use kubedeck_core::actions::ActionError;
use kubedeck_core::reveal::{self, Revealed, SecretKey};

/// A Secret, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub namespace: String,
    pub name: String,
}

impl SecretRef {
    fn object(&self) -> String {
        format!("secret/{}", self.name)
    }
}

/// Bytes of a binary value shown as hex; the rest is counted.
const HEX_LIMIT: usize = 64 * 1024;

/// The Secret the top screen is about: the selected row of `:secret`, or
/// the row under a pane (describe, YAML, a revealed key) over it.
fn target(state: &AppState) -> Option<SecretRef> {
    let screen = state.screen();
    let resource = screen.query.resource.as_ref()?;
    if screen.view != View::Resource || !(resource.group.is_empty() && resource.plural == "secrets")
    {
        return None;
    }
    let table = state
        .stack
        .iter()
        .rev()
        .find(|s| matches!(s.body, Body::Table))?;
    let (namespace, name) = table.selected_key()?.clone();
    Some(SecretRef { namespace, name })
}

fn say(state: &mut AppState, text: impl Into<String>, role: Role) -> Updated {
    state.message = Some((text.into(), role));
    Updated::redraw()
}

/// `decode`, and `recovery-test` on a Secret; None leaves the key to what
/// it does elsewhere.
pub(crate) fn on_action(state: &mut AppState, action: &Action) -> Option<Updated> {
    if !matches!(action, Action::Decode | Action::RecoveryTest) {
        return None;
    }
    let Some(secret) = target(state) else {
        return (action == &Action::Decode).then(|| {
            say(
                state,
                "decode reveals a key of a Secret: select one in :secret",
                Role::Muted,
            )
        });
    };
    if state.readonly && (state.blocked.is_some() || !state.reveal_in_read_only) {
        return Some(refuse(state, &secret));
    }
    state.dialog = Some(Dialog::Form(Form {
        kind: FormKind::RevealKey {
            secret: secret.clone(),
        },
        title: format!("Reveal a key of {}", secret.object()),
        fields: Vec::new(),
        focus: 0,
        notes: vec![(
            format!("reading the keys of {}…", secret.object()),
            Role::Muted,
        )],
        error: None,
    }));
    Some(Updated::with(Effect::SecretKeys(secret)))
}

/// Refused before anything is read, and audited as the core's gate would.
fn refuse(state: &mut AppState, secret: &SecretRef) -> Updated {
    let text = match &state.blocked {
        Some(why) => ActionError::Blocked(why.clone()).to_string(),
        None => format!(
            "refused: context {} is read-only; revealing a Secret's key there needs allow-reveal-in-read-only = true in config.toml",
            state.context
        ),
    };
    let mut out = say(state, text, Role::Warning);
    out.effects.push(Effect::AuditReadonlyRefusal {
        namespace: secret.namespace.clone(),
        object: secret.object(),
        action: reveal::ACTION.into(),
    });
    out
}

/// Reads the Secret's key names and sizes (the values are dropped here);
/// the answer for `on_keys`.
pub(crate) async fn fetch_keys(client: Client, secret: SecretRef) -> Msg {
    let api: Api<Secret> = Api::namespaced(client, &secret.namespace);
    let result = api
        .get(&secret.name)
        .await
        .map(|s| {
            s.data
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.0.len()))
                .collect()
        })
        .map_err(|e| e.to_string());
    Msg::SecretKeys { secret, result }
}

/// The picker waiting for `secret`'s keys, if it is still open.
fn picker<'a>(state: &'a mut AppState, secret: &SecretRef) -> Option<&'a mut Form> {
    match &mut state.dialog {
        Some(Dialog::Form(form)) if matches!(&form.kind, FormKind::RevealKey { secret: s } if s == secret) => {
            Some(form)
        }
        _ => None,
    }
}

/// The keys arrived: one is revealed at once, more are offered in the
/// picker; the picker closed meanwhile takes nothing.
pub(crate) fn on_keys(
    state: &mut AppState,
    secret: SecretRef,
    result: Result<Vec<(String, usize)>, String>,
) -> Updated {
    let Some(form) = picker(state, &secret) else {
        return Updated::default();
    };
    let keys = match result {
        Ok(keys) => keys,
        Err(e) => {
            form.notes.clear();
            form.error = Some(format!("cannot read the keys of {}: {e}", secret.object()));
            return Updated::redraw();
        }
    };
    match keys.as_slice() {
        [] => {
            state.dialog = None;
            say(
                state,
                format!("{} has no data to reveal", secret.object()),
                Role::Muted,
            )
        }
        [(key, _)] => {
            let key = key.clone();
            state.dialog = None;
            start(state, &secret, &key)
        }
        many => {
            let names: Vec<String> = many.iter().map(|(k, _)| k.clone()).collect();
            let sizes = many
                .iter()
                .map(|(k, n)| format!("{k} ({n} bytes)"))
                .collect::<Vec<_>>()
                .join(", ");
            form.fields = vec![Field::choice("key", names)];
            form.notes = vec![
                (sizes, Role::Muted),
                (
                    "←/→ chooses a key; Enter shows its value, decoded, in a pane (audited); Esc forgets it."
                        .into(),
                    Role::Muted,
                ),
            ];
            Updated::redraw()
        }
    }
}

fn start(state: &mut AppState, secret: &SecretRef, key: &str) -> Updated {
    let target = SecretKey::new(&secret.namespace, &secret.name, key);
    let text = format!("revealing {key} of {}…", secret.object());
    state.message = Some((text, Role::Info));
    state.reveal_asked = Some(target.clone());
    Updated::with(Effect::Reveal(target))
}

/// Keys for the picker; None leaves the key to the other dialogs.
pub(crate) fn on_dialog_key(state: &mut AppState, key: Key, keymap: &Keymap) -> Option<Updated> {
    let action = keymap.resolve(Mode::Dialog, key);
    let Some(Dialog::Form(form)) = &mut state.dialog else {
        return None;
    };
    let FormKind::RevealKey { secret } = &form.kind else {
        return None;
    };
    let secret = secret.clone();
    Some(match action {
        Some(Action::Back) => {
            state.dialog = None;
            say(state, "cancelled: nothing was revealed", Role::Muted)
        }
        Some(Action::Accept) => match form.fields.first().map(|f| f.value.clone()) {
            Some(key) => {
                state.dialog = None;
                start(state, &secret, &key)
            }
            None => Updated::default(),
        },
        Some(Action::NextField | Action::PrevField) => Updated::default(),
        _ => Updated {
            redraw: form.edit(key),
            effects: Vec::new(),
        },
    })
}

/// The value arrived: a pane of its own over the screen, which Esc closes
/// and so forgets it; a refusal or failure is said on the status line.
pub(crate) fn on_revealed(
    state: &mut AppState,
    target: SecretKey,
    result: Result<Revealed, String>,
) -> Updated {
    if state.reveal_asked.as_ref() != Some(&target) {
        return Updated::default();
    }
    state.reveal_asked = None;
    let value = match result {
        Ok(v) => v,
        Err(e) => return say(state, e, Role::Warning),
    };
    let (how, lines) = value_lines(value.bytes());
    let title = format!(
        "{} key {} ({how}; Esc closes and forgets it)",
        target.object(),
        target.key
    );
    state.message = Some((
        format!("revealed {} of {} (audited)", target.key, target.object()),
        Role::Info,
    ));
    let pane = TextPane {
        title,
        lines,
        scroll: 0,
        loading: None,
        awaiting_events: None,
        tail: Vec::new(),
    };
    state.push_over(format!("{} {}", target.name, target.key), Body::Text(pane));
    Updated::redraw()
}

/// A value as safe lines, and how it is shown: text line by line, with
/// any control character (an escape sequence would drive the terminal)
/// removed; anything not UTF-8 as hex, 16 bytes a line.
pub(crate) fn value_lines(bytes: &[u8]) -> (String, Vec<String>) {
    let n = bytes.len();
    if let Ok(text) = std::str::from_utf8(bytes) {
        let controls = text
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
            .count();
        let lines = text
            .split('\n')
            .map(|l| kubedeck_core::terminal::safe(l).into_owned())
            .collect();
        let how = match controls {
            0 => format!("{n} bytes, decoded"),
            c => format!("{n} bytes, decoded, {c} control characters removed"),
        };
        return (how, lines);
    }
    let shown = &bytes[..n.min(HEX_LIMIT)];
    let mut lines: Vec<String> = shown
        .chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String = chunk
                .iter()
                .map(|b| {
                    if b.is_ascii_graphic() || *b == b' ' {
                        char::from(*b)
                    } else {
                        '.'
                    }
                })
                .collect();
            format!("{:08x}  {:<47}  |{ascii}|", i * 16, hex.join(" "))
        })
        .collect();
    if n > shown.len() {
        lines.push(format!("… {} more bytes", n - shown.len()));
    }
    (format!("binary, {n} bytes, as hex"), lines)
}

#[cfg(test)]
#[path = "reveal_tests.rs"]
mod tests;
