//! Revealing a Secret's key, end to end by keys in tmux against the
//! simulator: a Secret created with kubectl shows nowhere (list, YAML,
//! describe, audit log, kubedeck's log) until `x` reveals one key, which
//! shows decoded in a pane and is audited without its value; Esc forgets
//! it. A read-only console refuses the reveal and audits the refusal.

use std::path::Path;
use std::time::Duration;

use kubedeck_sim::config::SimConfig;

use crate::tmux::{self, BIN, Tmux};

const WAIT: Duration = Duration::from_secs(60);
const SECRET: &str = "reveal-me";
const PASSWORD: &str = "tmux-only-value-7f3a9c";
/// `PASSWORD` as the API stores it, base64.
const PASSWORD_B64: &str = "dG11eC1vbmx5LXZhbHVlLTdmM2E5Yw";
const USERNAME: &str = "operator-e21b";

fn command(tmux: &Tmux, line: &str) {
    tmux.keys(&[":"]);
    tmux.type_text(line);
    tmux.keys(&["Enter"]);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn assert_hidden(what: &str, text: &str) {
    for value in [PASSWORD, PASSWORD_B64, USERNAME] {
        assert!(!text.contains(value), "{value} in the {what}:\n{text}");
    }
}

/// `:secret` narrowed to the test's Secret.
fn open_secret(tmux: &Tmux) -> String {
    tmux.wait_for("the overview", WAIT, |s| s.contains("Overview(all)"));
    // Discovery answers after the first frame: wait for its list.
    command(tmux, "api-resources");
    tmux.wait_for("the resource list", WAIT, |s| {
        s.contains("API resources(all)[") && !s.contains("API resources(all)[0]")
    });
    command(tmux, "secret");
    tmux.keys(&["/"]);
    tmux.type_text(SECRET);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the Secret's row alone", WAIT, |s| {
        s.contains("secrets(all)[1]") && s.contains(SECRET) && s.contains("Opaque")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_key_shows_only_when_revealed_and_the_reveal_is_audited_without_it() {
    tmux::require_tmux();
    crate::common::require_kubectl();
    let ts = crate::common::start_with("minimal", SimConfig::default()).await;
    ts.kubectl(&[
        "create",
        "secret",
        "generic",
        SECRET,
        "-n",
        "demo",
        &format!("--from-literal=password={PASSWORD}"),
        &format!("--from-literal=username={USERNAME}"),
    ])
    .await
    .ok();
    let home = ts.dir.path().join("home");
    let audit = home.join("data/kubedeck/audit.jsonl");
    let log = home.join(".local/state/kubedeck/kubedeck.log");
    let kubeconfig = ts.kubeconfig.clone();
    let tmux = Tmux::new("reveal");
    tokio::task::block_in_place(|| {
        tmux.start_console(BIN, &home, &kubeconfig, "", (160, 45));
        let list = open_secret(&tmux);
        assert_hidden("list", &list);

        tmux.keys(&["y"]);
        let yaml = tmux.wait_for("its YAML, values hidden", WAIT, |s| {
            s.contains(&format!("yaml secret/{SECRET}"))
                && s.contains("password: <hidden, 22 bytes>")
        });
        assert_hidden("YAML", &yaml);
        tmux.escape();
        tmux.keys(&["d"]);
        let described = tmux.wait_for("its keys described, as sizes", WAIT, |s| {
            s.contains(&format!("describe secret/{SECRET}"))
                && s.contains("username:  <hidden, 13 bytes>")
        });
        assert_hidden("describe pane", &described);
        assert_hidden("audit log", &read(&audit));
        assert!(
            read(&log).contains("command :secret"),
            "kubedeck's log is written: {}",
            read(&log)
        );
        assert_hidden("console's log", &read(&log));

        // x in the describe pane: the keys to pick from, then one value.
        tmux.keys(&["x"]);
        let picker = tmux.wait_for("the key picker", WAIT, |s| {
            s.contains(&format!("Reveal a key of secret/{SECRET}")) && s.contains("◀ password ▶")
        });
        assert!(picker.contains("username (13 bytes)"), "{picker}");
        assert_hidden("picker", &picker);
        tmux.keys(&["Enter"]);
        let revealed = tmux.wait_for("the value, decoded", WAIT, |s| {
            s.contains(&format!("secret/{SECRET} key password (22 bytes, decoded"))
                && s.lines().any(|l| l.trim_matches(['│', ' ']) == PASSWORD)
        });
        assert!(!revealed.contains(USERNAME), "one key only:\n{revealed}");
    });

    let records: Vec<serde_json::Value> = read(&audit)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an audit record"))
        .collect();
    let reveal = records
        .iter()
        .find(|r| r["action"] == "reveal-secret-key")
        .unwrap_or_else(|| panic!("the reveal is audited: {records:?}"));
    assert_eq!(reveal["object"], format!("secret/{SECRET}"));
    assert_eq!(reveal["namespace"], "demo");
    assert_eq!(reveal["context"], "kubedeck-sim");
    assert_eq!(reveal["parameters"]["key"], "password");
    assert_eq!(reveal["result"]["status"], "ok");
    assert_hidden("audit log", &read(&audit));

    tokio::task::block_in_place(|| {
        tmux.escape();
        let back = tmux.wait_for("the describe pane again", WAIT, |s| {
            s.contains(&format!("describe secret/{SECRET}"))
        });
        assert_hidden("screen after Esc", &back);
        tmux.keys(&["q"]);
        tmux.wait_for("the console to exit", WAIT, |s| s.contains("EXITED 0"));
    });
    assert_hidden("console's log", &read(&log));

    // Read-only: refused before anything is read, and the refusal audited.
    let ro = Tmux::new("reveal-ro");
    tokio::task::block_in_place(|| {
        ro.start_console(BIN, &home, &kubeconfig, "--readonly", (160, 45));
        open_secret(&ro);
        ro.keys(&["x"]);
        let refused = ro.wait_for("the refusal", WAIT, |s| {
            s.contains("refused: context kubedeck-sim is read-only")
        });
        assert!(!refused.contains("Reveal a key"), "{refused}");
        assert_hidden("read-only screen", &refused);
    });
    let refusal = tokio::task::block_in_place(|| {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let text = read(&audit);
            if let Some(line) = text
                .lines()
                .find(|l| l.contains("reveal-secret-key") && l.contains("\"refused\""))
            {
                return line.to_string();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the refusal is audited: {text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    assert!(refusal.contains("read-only"), "{refusal}");
    assert_hidden("audit log", &read(&audit));
    assert_hidden("console's log", &read(&log));
}
