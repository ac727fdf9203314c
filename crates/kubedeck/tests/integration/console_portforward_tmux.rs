//! Port-forward by keys: the real binary in tmux against `kubedeck sim`.
//! F on a pod row offers the container's port, the forward answers plain
//! HTTP with the pod's name, `:pf` lists it after a view change with its
//! traffic, and ctrl-d stops it.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::tmux::{self, BIN, Tmux};

fn start_console(tmux: &Tmux, home: &Path, kubeconfig: &Path) {
    tmux.start_console(BIN, home, kubeconfig, "", (200, 45));
}

/// The number after `prefix` on the screen.
fn number_after(screen: &str, prefix: &str) -> Option<u16> {
    let at = screen.find(prefix)? + prefix.len();
    let digits: String = screen[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

const REQUEST: &str = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

#[test]
fn forward_from_a_pod_row_see_it_in_pf_with_traffic_and_stop_it() {
    tmux::require_tmux();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sim, kubeconfig) = tmux::start_sim(dir.path(), &[]);
    let tmux = Tmux {
        socket: format!("kubedeck-pf-{}", std::process::id()),
    };
    let home = dir.path().join("home");
    start_console(&tmux, &home, &kubeconfig);
    let long = Duration::from_secs(30);

    tmux.wait_for("the overview", long, |s| s.contains("Overview(all)"));
    tmux.keys(&["1"]);
    tmux.keys(&["/"]);
    tmux.type_text("web-");
    tmux.keys(&["Enter"]);
    tmux.wait_for("a Running web pod", long, |s| {
        s.lines()
            .any(|l| l.contains("web-") && l.contains("Running"))
    });

    // F: the form offers the container port from the pod's spec. Its title
    // names the pod it forwards to: the selected row's, whatever the list
    // did meanwhile.
    tmux.keys(&["F"]);
    let form = tmux.wait_for("the port-forward form", long, |s| {
        s.contains("Port-forward to pod/web-") && s.contains("8080 (http, container web)")
    });
    let pod = form
        .split("Port-forward to pod/")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the form names the pod")
        .trim_end_matches('…')
        .to_string();
    // Local port 0: a free one, from the OS.
    tmux.keys(&["Tab", "BSpace", "BSpace", "BSpace", "BSpace"]);
    tmux.type_text("0");
    tmux.keys(&["Enter"]);
    let started = tmux.wait_for("the forward to start", long, |s| {
        s.contains("forwarding 127.0.0.1:") && s.contains(" -> 8080 to pod/web-")
    });
    let port = number_after(&started, "forwarding 127.0.0.1:").expect("the local port");

    // The forward outlives a view change; :pf lists it.
    tmux.keys(&["2"]);
    tmux.wait_for("the workloads view", long, |s| s.contains("Deployment"));
    tmux.keys(&[":"]);
    tmux.type_text("pf");
    tmux.keys(&["Enter"]);
    let local = format!("127.0.0.1:{port}");
    tmux.wait_for("the forward in :pf", long, |s| {
        s.contains("PortForwards[1]") && s.contains(&local) && s.contains("listening")
    });

    let mut sock = TcpStream::connect(("127.0.0.1", port)).expect("the forward listens");
    sock.write_all(REQUEST.as_bytes())
        .expect("send the request");
    let mut answer = String::new();
    sock.read_to_string(&mut answer).expect("read the answer");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    // The forward went to the pod it was started on.
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").trim_end();
    assert!(
        body.starts_with(&pod) && body.starts_with("web-"),
        "to {pod}: {answer}"
    );

    // One connection, the request's bytes sent, the answer's received.
    let sent = format!("{}B", REQUEST.len());
    let received = format!("{}B", answer.len());
    let screen = tmux.wait_for("the traffic counts", long, |s| {
        s.lines().any(|l| {
            l.contains(&local)
                && l.split_whitespace()
                    .collect::<Vec<_>>()
                    .windows(3)
                    .any(|w| w[0] == "1" && w[1] == sent && w[2] == received)
        })
    });
    assert!(
        screen.contains("pod/web-") && screen.contains(":8080"),
        "{screen}"
    );

    // ctrl-d stops it: the port is closed.
    tmux.keys(&["C-d"]);
    tmux.wait_for("the forward stopped", long, |s| {
        s.contains("PortForwards[0]") && s.contains(&format!("stopped forwarding {local} -> 8080"))
    });
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens on {local} once stopped"
    );

    tmux.keys(&["q"]);
    tmux.wait_for("the console to exit", long, |s| s.contains("EXITED 0"));
    tmux.cmd(&["kill-session", "-t", "t"]);
}
