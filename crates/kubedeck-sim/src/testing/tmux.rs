//! Driving a terminal program in tmux, as a person would: a tmux server on a
//! socket of the test's own, keys sent, the screen read back.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

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

    /// Starts kubedeck's console (`bin` with `args`) on `kubeconfig` in a
    /// `width`x`height` session, in `home` of its own so that no user config
    /// leaks in and the audit log lands in `home/data`. When it exits, the
    /// pane shows `EXITED <status>`, then `stty -a` for the terminal it left.
    pub fn start_console(
        &self,
        bin: &str,
        home: &Path,
        kubeconfig: &Path,
        args: &str,
        (width, height): (u16, u16),
    ) {
        let script = format!(
            "HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data KUBECONFIG={kc} {bin} {args}; \
             echo EXITED $?; stty -a; sleep 600",
            home = home.display(),
            kc = kubeconfig.display(),
        );
        let (width, height) = (width.to_string(), height.to_string());
        self.cmd(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &width,
            "-y",
            &height,
            "sh",
            "-c",
            &script,
        ]);
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
