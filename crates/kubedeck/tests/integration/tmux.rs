//! Driving the real binary end to end: a `kubedeck sim` process and a tmux
//! server of the test's own, both stopped however the test ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_kubedeck");

/// The simulator process; killed however the test ends.
pub struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `kubedeck sim --scenario minimal` with extra arguments and waits
/// until it serves; returns it and the kubeconfig it wrote.
pub fn start_sim(dir: &Path, extra: &[&str]) -> (Sim, PathBuf) {
    let kubeconfig = dir.join("kubeconfig");
    let mut child = Command::new(BIN)
        .args(["sim", "--scenario", "minimal", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubedeck sim starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let sim = Sim(child);
    // The simulator prints the kubeconfig path once it serves.
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("kubeconfig:") => break,
            Some(Ok(_)) => {}
            _ => panic!("kubedeck sim exited before serving"),
        }
    }
    std::thread::spawn(move || for _ in lines {});
    (sim, kubeconfig)
}

pub fn require_tmux() {
    let version = Command::new("tmux").arg("-V").output();
    assert!(
        version.is_ok_and(|o| o.status.success()),
        "this test needs tmux on PATH (apt-get install tmux)"
    );
}

/// A tmux server on a socket of its own, so that the test never touches
/// the user's sessions; killed however the test ends. Its one session is `t`.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn new(tag: &str) -> Tmux {
        Tmux {
            socket: format!("kubedeck-test-{tag}-{}", std::process::id()),
        }
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", "t"])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "t", k]);
        }
    }

    pub fn type_text(&self, text: &str) {
        self.cmd(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Escape, then a pause: a key right after Esc would read as Alt+key.
    pub fn escape(&self) {
        self.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(200));
    }

    /// Polls the screen until `ok` holds, or fails with the last screen.
    pub fn wait_for(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen was:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn alternate_screen(&self) -> bool {
        self.cmd(&["display-message", "-p", "-t", "t", "#{alternate_on}"])
            .trim()
            == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
