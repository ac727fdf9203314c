//! Starting the console against a kubeconfig that is missing, broken, names
//! an unknown context or points at no server: a clear message naming the
//! problem and a non-zero exit, before the terminal is touched.

use std::process::Command;

fn kubedeck(kubeconfig: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubedeck"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", std::env::temp_dir())
        .output()
        .expect("kubedeck runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Nothing of the terminal was taken: no alternate-screen escape.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\u{1b}[?1049h"));
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_missing_kubeconfig_is_explained() {
    let (code, err) = kubedeck("/nonexistent/kubedeck/kubeconfig", &[]);
    assert_ne!(code, 0);
    assert!(err.contains("kubeconfig"), "{err}");
    assert!(err.contains("kubedeck demo"), "offers the demo: {err}");
}

#[test]
fn a_broken_kubeconfig_is_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    std::fs::write(&path, "apiVersion: v1\nclusters: [this is: not valid\n").expect("write");
    let (code, err) = kubedeck(path.to_str().expect("path"), &[]);
    assert_ne!(code, 0);
    assert!(err.contains("kubeconfig"), "{err}");
}

#[test]
fn an_unknown_context_lists_the_known_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\ncurrent-context: dev\nusers:\n- name: u\n  user: {}\n",
    )
    .expect("write");
    let (code, err) = kubedeck(path.to_str().expect("path"), &["--context", "prod"]);
    assert_ne!(code, 0);
    assert!(err.contains("\"prod\"") && err.contains("dev"), "{err}");

    // Port 9 (discard) has no API server: the context is named, with the address.
    let (code, err) = kubedeck(path.to_str().expect("path"), &[]);
    assert_ne!(code, 0);
    assert!(err.contains("127.0.0.1:9") && err.contains("dev"), "{err}");
}

#[test]
fn kubeconfig_names_the_file_to_use_over_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("other");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:9'}\ncontexts:\n- name: from-flag\n  context: {cluster: c, user: u}\ncurrent-context: from-flag\nusers:\n- name: u\n  user: {}\n",
    )
    .expect("write");
    // KUBECONFIG points nowhere; the flag's file is the one read.
    let flag = path.to_str().expect("path");
    let (code, err) = kubedeck("/nonexistent/kubeconfig", &["--kubeconfig", flag]);
    assert_ne!(code, 0);
    assert!(err.contains("from-flag"), "{err}");
    let (code, err) = kubedeck(
        "/nonexistent/kubeconfig",
        &["--kubeconfig", "/nonexistent/flag-file"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/flag-file"), "{err}");
}
