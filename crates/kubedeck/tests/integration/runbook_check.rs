//! `kubedeck runbook check` and `list` with the real binary: every shipped
//! runbook checks, valid fixtures pass, and each invalid fixture is
//! reported with the line its first line announces
//! (`# expect: <line>: <text>`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kubedeck");
const SHIPPED: [&str; 6] = [
    "high-error-rate",
    "pod-crash-loop",
    "failover-demo",
    "scaling-demo",
    "bad-rollout",
    "backup-and-verify",
];

fn kubedeck(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("KUBEDECK_LOG")
        .output()
        .expect("run kubedeck")
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../kubedeck-core/tests/fixtures/runbooks")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files
}

#[test]
fn every_shipped_runbook_passes_check_by_name() {
    let home = tempfile::tempdir().expect("temporary home");
    let out = kubedeck(
        home.path(),
        &[&["runbook", "check"][..], &SHIPPED[..]].concat(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in SHIPPED {
        assert!(stdout.contains(&format!("shipped:{name}: ok")), "{stdout}");
    }
    // The files in the repository are the ones embedded.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kubedeck-core/runbooks");
    for name in SHIPPED {
        let path = dir.join(format!("{name}.yaml"));
        let out = kubedeck(
            home.path(),
            &["runbook", "check", &path.display().to_string()],
        );
        assert!(out.status.success(), "{}", path.display());
    }
}

#[test]
fn valid_fixtures_pass() {
    let home = tempfile::tempdir().expect("temporary home");
    for file in fixtures("valid") {
        let path = file.display().to_string();
        let out = kubedeck(home.path(), &["runbook", "check", &path]);
        assert!(
            out.status.success(),
            "{path}:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{path}: ok")));
    }
}

#[test]
fn invalid_fixtures_are_reported_with_their_line() {
    let home = tempfile::tempdir().expect("temporary home");
    for file in fixtures("invalid") {
        let path = file.display().to_string();
        let text = std::fs::read_to_string(&file).expect("read fixture");
        let expect = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{path}: the first line must be `# expect: <line>: <text>`"));
        let (line, message) = expect
            .split_once(": ")
            .unwrap_or_else(|| panic!("{path}: bad expect line {expect:?}"));
        let out = kubedeck(home.path(), &["runbook", "check", &path]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{path} passed check:\n{stdout}");
        let wanted = format!("{path}:{line}: ");
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&wanted) && l.contains(message)),
            "{path}: expected an error at line {line} containing {message:?}, got:\n{stdout}"
        );
    }
}

#[test]
fn list_shows_shipped_and_user_runbooks_with_titles() {
    let home = tempfile::tempdir().expect("temporary home");
    let mine = home.path().join("config/kubedeck/runbooks");
    std::fs::create_dir_all(&mine).expect("user runbook folder");
    std::fs::write(
        mine.join("db-failover.yaml"),
        "title: Database failover\nsteps:\n  - id: a\n    name: A\n    note: hi\n",
    )
    .expect("write a user runbook");
    let out = kubedeck(home.path(), &["runbook", "list"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for (name, title) in [
        ("high-error-rate", "High error rate"),
        ("pod-crash-loop", "Pod crash loop"),
        ("failover-demo", "Failover demo"),
        ("scaling-demo", "Scaling demo"),
        ("bad-rollout", "Bad rollout and rollback"),
        ("backup-and-verify", "Backup and verify"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(name) && l.contains("shipped") && l.ends_with(title)),
            "{name}: {stdout}"
        );
    }
    assert!(
        stdout.lines().any(|l| l.starts_with("db-failover")
            && l.contains("user")
            && l.ends_with("Database failover")),
        "{stdout}"
    );
    // A user runbook is run and checked by its name.
    let out = kubedeck(home.path(), &["runbook", "check", "db-failover"]);
    assert!(out.status.success());
}

#[test]
fn run_refuses_confirm_steps_without_a_terminal_or_yes() {
    let home = tempfile::tempdir().expect("temporary home");
    let out = Command::new(BIN)
        .args(["runbook", "run", "bad-rollout"])
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("KUBECONFIG", home.path().join("no-kubeconfig"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run kubedeck");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pass --yes"), "{stderr}");
    // Bad variables are refused before connecting, too.
    let out = kubedeck(
        home.path(),
        &[
            "runbook",
            "run",
            "bad-rollout",
            "--yes",
            "--var",
            "stall_timeout=soon",
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("shipped:bad-rollout:") && stderr.contains("bad duration"),
        "{stderr}"
    );
}

/// `-n` sets a runbook's `namespace` variable; on a runbook without one it
/// would change nothing, so it is refused before anything runs.
#[test]
fn run_refuses_a_namespace_the_runbook_cannot_use() {
    let home = tempfile::tempdir().expect("temporary home");
    let file = home.path().join("fixed.yaml");
    std::fs::write(
        &file,
        "title: Fixed\nnamespace: shop\nsteps:\n  - id: a\n    name: A\n    note: hi\n",
    )
    .expect("write a runbook");
    let path = file.display().to_string();
    let out = kubedeck(home.path(), &["runbook", "run", &path, "-n", "other"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "-n other: {path} has no `namespace` variable, so -n would change nothing; nothing was run"
        )),
        "{stderr}"
    );
}
