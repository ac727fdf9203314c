//! The terminal the console draws on: raw mode, the alternate screen and a
//! hidden cursor while it runs, given back however it stops: a quit, a
//! panic, a terminating signal (SIGTERM, SIGINT, SIGHUP when the pane is
//! closed, SIGQUIT), or ctrl-z / SIGTSTP, after which `fg` takes it again.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::Show;
use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::DefaultTerminal;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// SIGTSTP's number, which tokio has no name for.
#[cfg(target_os = "linux")]
const SIGTSTP: i32 = 20;
#[cfg(not(target_os = "linux"))]
const SIGTSTP: i32 = 18;

/// Whether the console asked the terminal for mouse events, so that taking
/// the terminal back (after ctrl-z, a shell) asks again.
static MOUSE: AtomicBool = AtomicBool::new(false);

/// Takes the terminal: raw mode and the alternate screen, mouse events when
/// `mouse`, and a panic hook that gives it back before the panic is printed.
pub(super) fn take(mouse: bool) -> io::Result<DefaultTerminal> {
    let terminal = ratatui::try_init()?;
    MOUSE.store(mouse, Ordering::Relaxed);
    mouse_on()?;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        give_back();
        previous(info);
    }));
    Ok(terminal)
}

/// Asks the terminal for mouse events again, if the console uses them.
pub(super) fn mouse_on() -> io::Result<()> {
    if MOUSE.load(Ordering::Relaxed) {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

/// Cooked mode, the main screen, a visible cursor and no mouse reporting,
/// whatever state the terminal is in; failures are ignored (the terminal
/// may be gone).
pub(super) fn give_back() {
    let _ = crossterm::terminal::disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(out, DisableMouseCapture, LeaveAlternateScreen, Show);
    let _ = out.flush();
}

/// Gives the terminal back, stops the process as the shell's ctrl-z would,
/// and takes the terminal again once continued (`fg`); the next frame is
/// drawn whole.
pub(super) fn suspend(terminal: &mut DefaultTerminal) -> io::Result<()> {
    give_back();
    // SIGSTOP cannot be caught: the process stops here until SIGCONT. The
    // standard library cannot raise a signal, kill(1) can.
    let stopped = std::process::Command::new("kill")
        .args(["-STOP", &std::process::id().to_string()])
        .status();
    if let Err(e) = stopped {
        tracing::warn!("cannot stop on ctrl-z: {e}");
    }
    crossterm::terminal::enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen)?;
    mouse_on()?;
    terminal.clear()
}

/// Whether the key is ctrl-z, which raw mode delivers as a key instead of
/// the terminal's SIGTSTP.
pub(super) fn is_suspend(ev: &Event) -> bool {
    matches!(
        ev,
        Event::Key(KeyEvent {
            code: KeyCode::Char('z'),
            modifiers,
            kind: KeyEventKind::Press | KeyEventKind::Repeat,
            ..
        }) if modifiers.contains(KeyModifiers::CONTROL)
    )
}

/// What a caught signal asks of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Caught {
    /// Give the terminal back and exit with this status (128 + signal).
    Exit(i32),
    Suspend,
}

/// The signals the console handles itself.
pub(super) struct Signals {
    exits: Vec<(Signal, i32)>,
    tstp: Signal,
}

impl Signals {
    pub(super) fn install() -> io::Result<Signals> {
        let mut exits = Vec::new();
        for kind in [
            SignalKind::terminate(),
            SignalKind::interrupt(),
            SignalKind::hangup(),
            SignalKind::quit(),
        ] {
            exits.push((signal(kind)?, 128 + kind.as_raw_value()));
        }
        Ok(Signals {
            exits,
            tstp: signal(SignalKind::from_raw(SIGTSTP))?,
        })
    }

    /// The next signal caught.
    pub(super) async fn recv(&mut self) -> Caught {
        let exits = futures::future::select_all(
            self.exits
                .iter_mut()
                .map(|(s, code)| Box::pin(async move { s.recv().await.map(|_| *code) })),
        );
        tokio::select! {
            (code, _, _) = exits => match code {
                Some(code) => Caught::Exit(code),
                // A closed stream never yields again.
                None => std::future::pending().await,
            },
            Some(()) = self.tstp.recv() => Caught::Suspend,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_z_suspends_and_a_plain_z_does_not() {
        let key = |modifiers| Event::Key(KeyEvent::new(KeyCode::Char('z'), modifiers));
        assert!(is_suspend(&key(KeyModifiers::CONTROL)));
        assert!(!is_suspend(&key(KeyModifiers::NONE)));
    }
}
