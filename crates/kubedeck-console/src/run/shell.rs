//! A shell in a container owns the terminal while it runs: the console
//! leaves the alternate screen (raw mode stays, the remote tty needs it),
//! passes keystrokes and window sizes to it and its output to the screen,
//! and when the shell exits, the pod dies or the connection drops, takes
//! the terminal back, resets what the remote side may have switched on,
//! and redraws everything.
//!
//! Keystrokes are read from a non-blocking /dev/tty of our own: crossterm's
//! reader is dropped for the session, and a non-blocking read leaves no
//! read in flight to steal the first key after the shell.

use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;

use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::{Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen};
use futures::StreamExt as _;
use ratatui::DefaultTerminal;
use tokio::net::unix::pipe::Receiver;
use tokio::signal::unix::{SignalKind, signal};

use crate::update::Msg;
use kubedeck_core::actions::Executor;
use kubedeck_core::exec::{self, Ended, Mode, Target};

/// Modes a remote program may leave on (mouse reporting, bracketed paste,
/// application cursor keys and keypad, colours) that would garble the
/// console: switched off before it draws again.
const RESET_MODES: &str =
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1l\x1b>\x1b[0m";

/// The terminal's input, read without blocking. tokio's pipe receiver
/// works on any pollable descriptor; the check it skips is for FIFOs.
fn tty_in() -> io::Result<Receiver> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/tty")?;
    Receiver::from_file_unchecked(file)
}

fn describe(t: &Target) -> String {
    match &t.container {
        Some(c) => format!("container {c} of pod/{}", t.pod),
        None => format!("pod/{}", t.pod),
    }
}

/// Runs `command` in the target with the terminal, and says how it ended.
/// Refusals (read-only, RBAC, a pod that does not run) come back before
/// the terminal is touched.
pub(super) async fn run(
    terminal: &mut DefaultTerminal,
    executor: &Executor,
    target: &Target,
    command: &[String],
) -> Msg {
    let ended = |text: String, ok: bool| Msg::ShellEnded { text, ok };
    let input = match tty_in() {
        Ok(i) => i,
        Err(e) => return ended(format!("cannot read the terminal for a shell: {e}"), false),
    };
    // Bounded: the console draws nothing while it waits.
    let started = tokio::time::timeout(
        executor.timeout,
        exec::start(executor, target, command, Mode::SHELL),
    );
    let process = match started.await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return ended(e.to_string(), false),
        Err(_) => {
            let why = format!(
                "no answer from the API server within {:?}: no shell was opened",
                executor.timeout
            );
            return ended(why, false);
        }
    };
    let mut out = io::stdout();
    let _ = execute!(
        out,
        crossterm::event::DisableMouseCapture,
        LeaveAlternateScreen,
        Show
    );
    let banner = format!(
        "kubedeck: a shell in {} (context {}); exit it to return to the console",
        describe(target),
        executor.context
    );
    let _ = out.write_all(kubedeck_core::terminal::safe(&banner).as_bytes());
    // Raw mode: the line break needs its carriage return spelled out.
    let _ = out.write_all(b"\r\n");
    let _ = out.flush();
    let resizes: Box<dyn futures::Stream<Item = (u16, u16)> + Unpin + Send> =
        match signal(SignalKind::window_change()) {
            Ok(mut winch) => {
                let first = crossterm::terminal::size().ok();
                Box::new(
                    futures::stream::iter(first).chain(
                        futures::stream::poll_fn(move |cx| winch.poll_recv(cx))
                            .filter_map(|()| async { crossterm::terminal::size().ok() })
                            .boxed(),
                    ),
                )
            }
            Err(e) => {
                tracing::warn!("window resizes will not reach the shell: {e}");
                Box::new(futures::stream::empty())
            }
        };
    let mut err = io::stderr();
    let how = exec::pump(process, Some(input), &mut out, &mut err, resizes).await;
    take_back(terminal);
    tracing::info!("the shell in {} ended: {how}", describe(target));
    let ok = how == Ended::Exited(0);
    ended(format!("shell in {} ended: {how}", describe(target)), ok)
}

/// The console's terminal again: modes reset, raw mode (a remote program
/// cannot change the local one, but a crash of ours may have), the
/// alternate screen, and a full redraw on the next frame.
pub(super) fn take_back(terminal: &mut DefaultTerminal) {
    let mut out = io::stdout();
    let _ = out.write_all(RESET_MODES.as_bytes());
    // The shell's transcript stays on the main screen; what is printed
    // there after the console starts on a line of its own.
    let _ = out.write_all(b"\r\n");
    let _ = crossterm::terminal::enable_raw_mode();
    let _ = execute!(out, EnterAlternateScreen, Clear(ClearType::All));
    let _ = super::terminal::mouse_on();
    // Not `terminal.clear()`: it first asks the terminal where the cursor
    // is, an answer crossterm's reader (still waiting on the old event
    // stream) does not deliver in time, and then gives up before it
    // forgets the last frame. Two swaps leave both buffers empty, so the
    // next draw writes every cell.
    terminal.swap_buffers();
    terminal.swap_buffers();
}
