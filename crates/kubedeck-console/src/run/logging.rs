//! kubedeck's own log, as the console sees it: the bell a tracing layer
//! rings so that a visible log pane redraws when it has news (and not on a
//! timer), and what the user asks for, logged as it is asked.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::input::action::Action;
use crate::input::key::Key;
use crate::input::keymap::{Keymap, Mode};
use crate::logview;
use crate::state::{AppState, Prompt};
use crate::update::keys::{Focus, focus};

/// Rung when kubedeck logs anything; the console waits on it while the log
/// pane shows. Pass it in `ConsoleOptions`.
#[derive(Clone)]
pub struct LogBell(Arc<Notify>);

/// The tracing layer that rings its `LogBell`; it sits beside tui-logger's
/// in the subscriber.
pub struct LogBellLayer(Arc<Notify>);

impl LogBell {
    /// A bell, and the layer that rings it.
    pub fn new() -> (LogBell, LogBellLayer) {
        let notify = Arc::new(Notify::new());
        (LogBell(notify.clone()), LogBellLayer(notify))
    }

    pub(super) async fn rung(&self) {
        self.0.notified().await;
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogBellLayer {
    fn on_event(
        &self,
        _event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.notify_one();
    }
}

/// Logs what the user asked for, as `update` will take the key: commands
/// and actions at info; cursor movement and opening a prompt at debug.
pub(super) fn log_input(state: &AppState, key: Key, keymap: &Keymap) {
    match focus(state) {
        // Typing in a dialog is not a command; what runs is logged when it runs.
        Focus::Dialog | Focus::Prompt(Prompt::Filter(_)) => {}
        Focus::Prompt(Prompt::Command(line)) => {
            if keymap.resolve(Mode::Input, key) == Some(&Action::Accept) {
                tracing::info!("command :{line}");
            }
        }
        Focus::Logs(view) if view.prompt.is_some() => {}
        Focus::Logs(_) => log_action(key, logview::action(keymap, key)),
        Focus::Help | Focus::Screen => log_action(key, keymap.resolve(Mode::Normal, key)),
    }
}

fn log_action(key: Key, action: Option<&Action>) {
    match action {
        Some(a)
            if a.moves_cursor()
                || matches!(
                    a,
                    Action::Command | Action::Filter | Action::Help | Action::Back
                ) =>
        {
            tracing::debug!("key {key}")
        }
        Some(action) => tracing::info!("{key}: {}", action.describe()),
        None => {}
    }
}
