//! Driving the real binary end to end: a `kubedeck sim` process and a tmux
//! server of the test's own, both stopped however the test ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub use kubedeck_sim::testing::tmux::{Tmux, require_tmux};

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
