//! Every way out of the console gives the terminal back: the console runs
//! from an interactive shell in tmux, is signalled as a window manager, a
//! closed pane or a user would, and the shell's next command finds the
//! main screen and cooked mode with echo. ctrl-z stops it like any job and
//! `fg` brings it back, redrawn.

use std::time::Duration;

use kubedeck_sim::testing::{self, TestSim};
use tokio::runtime::Runtime;

use crate::tmux::{self, BIN, Tmux};

const LONG: Duration = Duration::from_secs(60);
const PROMPT: &str = "prompt>";

struct Shell {
    tmux: Tmux,
    ts: TestSim,
    _rt: Runtime,
}

impl Shell {
    /// A simulator, and bash (job control on, a known prompt) in tmux.
    fn start(tag: &str) -> Shell {
        tmux::require_tmux();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let ts = rt.block_on(testing::start());
        let tmux = Tmux::new(tag);
        tmux.cmd(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "160",
            "-y",
            "45",
            &format!("env PS1='{PROMPT} ' bash --norc --noprofile -i"),
        ]);
        let shell = Shell { tmux, ts, _rt: rt };
        shell.wait_prompt();
        shell
    }

    /// Waits for the shell's prompt on the last line, on the main screen.
    fn wait_prompt(&self) -> String {
        self.tmux.wait_for("the shell's prompt", LONG, |s| {
            s.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::trim)
                == Some(PROMPT)
        })
    }

    fn run(&self, line: &str) {
        self.tmux.type_text(line);
        self.tmux.keys(&["Enter"]);
    }

    /// Starts the console on a cleared screen; waits for the overview.
    fn console(&self) {
        self.console_with("");
    }

    /// As `console`, with environment assignments before the command.
    fn console_with(&self, env: &str) {
        self.run(&format!(
            "clear; {env} HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data KUBECONFIG={kc} {bin}",
            home = self.ts.dir.path().display(),
            kc = self.ts.kubeconfig.display(),
            bin = BIN,
        ));
        self.tmux
            .wait_for("the overview", LONG, |s| s.contains("Overview(all)"));
        assert!(
            self.tmux.alternate_screen(),
            "the console draws on the alternate screen"
        );
    }

    /// The pid of the shell's one child: the console.
    fn console_pid(&self) -> String {
        let shell = self
            .tmux
            .cmd(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
        let shell = shell.trim();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .expect("children");
        let pids: Vec<&str> = children.split_whitespace().collect();
        assert_eq!(pids.len(), 1, "the shell runs the console alone: {pids:?}");
        pids[0].to_string()
    }

    /// Asserts that the shell's next command finds a sane terminal: the
    /// main screen, cooked mode, echo on.
    fn assert_sane(&self) {
        assert!(!self.tmux.alternate_screen(), "back on the main screen");
        self.run("clear");
        self.tmux
            .wait_for("a cleared screen", LONG, |s| s.trim() == PROMPT);
        self.run("stty -a");
        let screen = self
            .tmux
            .wait_for("stty's settings", LONG, |s| s.contains("icanon"));
        assert!(
            screen.contains(" icanon") && !screen.contains("-icanon"),
            "canonical mode:\n{screen}"
        );
        assert!(
            screen.contains(" echo ") && !screen.contains("-echo "),
            "echo on:\n{screen}"
        );
        self.wait_prompt();
    }
}

#[test]
fn terminating_signals_restore_the_terminal_and_exit_128_plus_the_signal() {
    let shell = Shell::start("signals");
    for (signal, status) in [("TERM", 143), ("INT", 130), ("HUP", 129), ("QUIT", 131)] {
        shell.console();
        let pid = shell.console_pid();
        let killed = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        shell.wait_prompt();
        shell.run("echo STATUS $?");
        let screen = shell.tmux.wait_for("the exit status", LONG, |s| {
            s.lines().any(|l| l.starts_with("STATUS "))
        });
        assert!(
            screen.contains(&format!("STATUS {status}")),
            "SIG{signal} exits {status}:\n{screen}"
        );
        assert!(!screen.contains("panicked"), "{screen}");
        shell.assert_sane();
    }
}

#[test]
fn ctrl_z_gives_the_terminal_back_and_fg_redraws_the_console() {
    let shell = Shell::start("ctrl-z");
    shell.console();
    shell.tmux.keys(&["C-z"]);
    let screen = shell.wait_prompt();
    assert!(
        screen.contains("Stopped"),
        "the shell has the job stopped:\n{screen}"
    );
    shell.assert_sane();

    shell.run("fg");
    shell
        .tmux
        .wait_for("the console redrawn", LONG, |s| s.contains("Overview(all)"));
    assert!(
        shell.tmux.alternate_screen(),
        "back on the alternate screen"
    );
    // It still takes keys.
    shell.tmux.keys(&["q"]);
    shell.wait_prompt();
    shell.run("echo STATUS $?");
    let screen = shell.tmux.wait_for("the exit status", LONG, |s| {
        s.lines().any(|l| l.starts_with("STATUS "))
    });
    assert!(screen.contains("STATUS 0"), "{screen}");
    shell.assert_sane();
}

#[test]
fn a_panic_gives_the_terminal_back_and_says_what_happened() {
    let shell = Shell::start("panic");
    // No backtrace, so the message stays on the screen.
    shell.console_with("KUBEDECK_TEST_PANIC=1 RUST_BACKTRACE=0");
    // The test-only trigger panics on the first key, in the UI loop.
    shell.tmux.keys(&["j"]);
    shell.wait_prompt();
    shell.run("echo STATUS $?");
    let screen = shell.tmux.wait_for("the exit status", LONG, |s| {
        s.lines().any(|l| l.starts_with("STATUS "))
    });
    assert!(
        screen.contains("STATUS 101"),
        "a panic exits 101:\n{screen}"
    );
    assert!(
        screen.contains("a test of the panic path"),
        "the panic's message is left on the main screen:\n{screen}"
    );
    shell.assert_sane();
}
