//! Editing an object from the console, by keys in tmux, with `EDITOR` set
//! to a script the test writes: `e` on a ConfigMap of the generic view
//! hands the terminal to the editor, the change shows as a diff in the
//! confirm dialog and lands (kubectl sees it); an invalid edit shows the
//! server's message and goes back to the editor with the edit kept; a
//! change made with kubectl while the editor is open is reported as a
//! conflict and not overwritten, and a reload keeps the user's edit.

use std::time::Duration;

use kubedeck_sim::testing::{self, TestSim};
use tokio::runtime::Runtime;

use crate::tmux::{self, BIN, Tmux};

const LONG: Duration = Duration::from_secs(60);
const PROMPT: &str = "prompt>";

struct Session {
    tmux: Tmux,
    ts: TestSim,
    rt: Runtime,
}

impl Session {
    /// A simulator with ConfigMap `app` (mode: blue) in demo, and bash in
    /// tmux.
    fn start(tag: &str) -> Session {
        tmux::require_tmux();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let ts = rt.block_on(testing::start());
        let made = rt.block_on(ts.kubectl(&[
            "create",
            "configmap",
            "app",
            "-n",
            "demo",
            "--from-literal=mode=blue",
        ]));
        assert!(made.success, "{made:?}");
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
        let s = Session { tmux, ts, rt };
        s.wait_prompt();
        s
    }

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

    /// Writes the editor script `name` (sh, given the file as $1).
    fn script(&self, name: &str, body: &str) -> String {
        let path = self
            .ts
            .write_file(name, &format!("#!/bin/sh\nset -e\n{body}\n"));
        let chmod = std::process::Command::new("chmod")
            .arg("+x")
            .arg(&path)
            .status()
            .expect("chmod runs");
        assert!(chmod.success());
        path.display().to_string()
    }

    /// kubectl in a script, on the test's cluster.
    fn kubectl_line(&self, args: &str) -> String {
        format!(
            "HOME={home} KUBECACHEDIR={cache} /usr/bin/kubectl --kubeconfig {kc} {args}",
            home = self.ts.dir.path().display(),
            cache = self.ts.cache_dir.display(),
            kc = self.ts.kubeconfig.display(),
        )
    }

    /// The console with `editor`, on the ConfigMaps, `app` selected.
    fn console_on_app(&self, editor: &str) {
        std::fs::create_dir_all(self.ts.dir.path().join("tmp")).expect("a temporary folder");
        self.run(&format!(
            "clear; EDITOR={editor} KUBE_EDITOR= TMPDIR={home}/tmp HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data XDG_STATE_HOME={home}/state KUBECONFIG={kc} {bin} -n demo",
            home = self.ts.dir.path().display(),
            kc = self.ts.kubeconfig.display(),
            bin = BIN,
        ));
        self.tmux
            .wait_for("the overview", LONG, |s| s.contains("Overview(demo)"));
        // `:cm` needs the server's resource list, which may still be
        // on its way: the console says so, and the command is typed again.
        for attempt in 1.. {
            assert!(attempt <= 30, "the resource list never arrived");
            self.tmux.keys(&[":"]);
            self.tmux.type_text("cm");
            self.tmux.keys(&["Enter"]);
            let screen = self.tmux.wait_for("the ConfigMaps", LONG, |s| {
                s.contains("configmaps(demo)") || s.contains("still loading")
            });
            if screen.contains("configmaps(demo)") {
                break;
            }
        }
        self.tmux.keys(&["/"]);
        self.tmux.type_text("app");
        self.tmux.keys(&["Enter"]);
        self.tmux.wait_for("the ConfigMap's row alone", LONG, |s| {
            s.contains("configmaps(demo)[1]") && s.lines().any(|l| l.contains("│app "))
        });
    }

    /// A ConfigMap's data as kubectl prints it.
    fn data(&self) -> String {
        let out = self.rt.block_on(self.ts.kubectl(&[
            "get",
            "cm",
            "app",
            "-n",
            "demo",
            "-o",
            "jsonpath={.data}",
        ]));
        assert!(out.success, "{out:?}");
        out.stdout
    }

    fn quit_sane(&self) {
        self.tmux.keys(&["q"]);
        self.wait_prompt();
        assert!(!self.tmux.alternate_screen(), "back on the main screen");
        self.run("stty -a");
        let screen = self
            .tmux
            .wait_for("stty's settings", LONG, |s| s.contains("icanon"));
        assert!(
            screen.contains(" icanon") && !screen.contains("-icanon"),
            "canonical mode:\n{screen}"
        );
        self.wait_prompt();
    }

    fn audit(&self) -> String {
        std::fs::read_to_string(self.ts.dir.path().join("data/kubedeck/audit.jsonl"))
            .unwrap_or_default()
    }

    /// No editor's file is left in the console's temporary folder.
    fn no_file_left(&self) {
        let left: Vec<_> = std::fs::read_dir(self.ts.dir.path().join("tmp"))
            .expect("the console's temporary folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

#[test]
fn an_edit_shows_its_diff_is_confirmed_and_lands() {
    let s = Session::start("edit-ok");
    // The editor also records what it was given, to show the stripping.
    let editor = s.script(
        "edit-ok.sh",
        &format!(
            "cp \"$1\" {dir}/opened.yaml\nsed -i 's/mode: blue/mode: green/' \"$1\"",
            dir = s.ts.dir.path().display()
        ),
    );
    s.console_on_app(&editor);
    s.tmux.keys(&["e"]);
    let screen = s
        .tmux
        .wait_for("the confirm dialog with the diff", LONG, |sc| {
            sc.contains("Edit configmap/app: 1 field changed") && sc.contains("<enter> confirm")
        });
    assert!(s.tmux.alternate_screen(), "the console has its screen back");
    for line in [
        "-  mode: blue",
        "+  mode: green",
        "kubectl replace -f - -n demo",
    ] {
        assert!(screen.contains(line), "{line:?} in:\n{screen}");
    }
    let opened = std::fs::read_to_string(s.ts.dir.path().join("opened.yaml")).unwrap();
    assert!(
        opened.starts_with("# Please edit the object below."),
        "{opened}"
    );
    assert!(opened.contains("resourceVersion:"), "{opened}");
    assert!(!opened.contains("managedFields"), "{opened}");
    assert_eq!(s.data(), r#"{"mode":"blue"}"#, "nothing before the confirm");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_for("the edit done", LONG, |sc| {
        sc.contains("configmap/app edited")
    });
    assert_eq!(s.data(), r#"{"mode":"green"}"#);
    s.no_file_left();

    // Unchanged: cancelled, nothing sent.
    let noop = s.script("noop.sh", "true");
    s.quit_sane();
    s.console_on_app(&noop);
    s.tmux.keys(&["e"]);
    let screen = s.tmux.wait_for("the cancel", LONG, |sc| {
        sc.contains("edit cancelled, no changes")
    });
    // The console drew itself whole again after the editor.
    assert!(
        screen.contains("kubedeck ctx: kubedeck-sim") && screen.contains("configmaps(demo)[1]"),
        "{screen}"
    );
    s.no_file_left();
    s.quit_sane();
    let audit = s.audit();
    assert_eq!(audit.matches("\"action\":\"edit\"").count(), 1, "{audit}");
    assert!(audit.contains("\"changed\":[\"data.mode\"]"), "{audit}");
}

#[test]
fn an_invalid_edit_shows_the_servers_message_and_goes_back_with_the_edit_kept() {
    let s = Session::start("edit-invalid");
    // First run: an invalid key. Run again on the kept edit (not on the
    // comments, which quote the message): fix it.
    let editor = s.script(
        "edit-invalid.sh",
        "if grep -q '^  bad key!: blue' \"$1\"; then\n  sed -i 's/^  bad key!: blue/  good-key: blue/' \"$1\"\nelse\n  sed -i 's/^  mode: blue/  bad key!: blue/' \"$1\"\nfi",
    );
    s.console_on_app(&editor);
    s.tmux.keys(&["e"]);
    let screen = s.tmux.wait_for("the server's message", LONG, |sc| {
        sc.contains("The server refused the edit of configmap/app")
            && sc.contains("<enter> back to the editor")
    });
    assert!(
        screen.contains("a valid config key must consist of alphanumeric"),
        "{screen}"
    );
    assert_eq!(s.data(), r#"{"mode":"blue"}"#);
    s.tmux.keys(&["Enter"]);
    let screen = s.tmux.wait_for("the fixed edit's diff", LONG, |sc| {
        sc.contains("Edit configmap/app") && sc.contains("<enter> confirm")
    });
    assert!(
        screen.contains("+  good-key: blue") && screen.contains("-  mode: blue"),
        "{screen}"
    );
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_for("the edit done", LONG, |sc| {
        sc.contains("configmap/app edited")
    });
    assert_eq!(s.data(), r#"{"good-key":"blue"}"#);
    s.quit_sane();
}

#[test]
fn a_change_made_meanwhile_is_a_conflict_not_overwritten_and_a_reload_keeps_the_edit() {
    let s = Session::start("edit-conflict");
    // The first time, someone else changes the ConfigMap while the editor
    // is open; every time, the user sets mode to green.
    let marker = s.ts.dir.path().join("changed-meanwhile");
    let editor = s.script(
        "edit-conflict.sh",
        &format!(
            "if [ ! -e {m} ]; then\n  {kubectl} patch cm app -n demo --type merge -p '{{\"data\":{{\"mode\":\"red\"}}}}' >/dev/null\n  touch {m}\nfi\nsed -i 's/^  mode: .*/  mode: green/' \"$1\"",
            m = marker.display(),
            kubectl = s.kubectl_line(""),
        ),
    );
    s.console_on_app(&editor);
    s.tmux.keys(&["e"]);
    let screen = s.tmux.wait_for("the conflict", LONG, |sc| {
        sc.contains("Conflict: configmap/app was changed meanwhile")
            && sc.contains("<enter> reload the latest version")
    });
    assert!(screen.contains("nothing was overwritten"), "{screen}");
    assert_eq!(s.data(), r#"{"mode":"red"}"#, "the other change is kept");
    // Reload: the latest version, edited again; the first edit kept.
    s.tmux.keys(&["Enter"]);
    let screen = s.tmux.wait_for("the reloaded edit's diff", LONG, |sc| {
        sc.contains("Edit configmap/app: 1 field changed") && sc.contains("<enter> confirm")
    });
    assert!(
        screen.contains("-  mode: red") && screen.contains("+  mode: green"),
        "{screen}"
    );
    let kept: Vec<_> = std::fs::read_dir(s.ts.dir.path().join("state/kubedeck/edits"))
        .expect("the kept edits")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let text = std::fs::read_to_string(kept[0].path()).unwrap();
    assert!(text.contains("mode: green"), "{text}");
    s.tmux.keys(&["Enter"]);
    s.tmux.wait_for("the edit done", LONG, |sc| {
        sc.contains("configmap/app edited")
    });
    assert_eq!(s.data(), r#"{"mode":"green"}"#);
    s.quit_sane();
}

#[test]
fn a_killed_editor_gives_the_terminal_back_and_changes_nothing() {
    let s = Session::start("edit-killed");
    let editor = s.script(
        "edit-killed.sh",
        "sed -i 's/mode: blue/mode: green/' \"$1\"\nkill -KILL $$",
    );
    s.console_on_app(&editor);
    s.tmux.keys(&["e"]);
    let screen = s.tmux.wait_for("the editor's failure", LONG, |sc| {
        sc.contains("The editor failed") && sc.contains("<enter> back to the editor")
    });
    assert!(
        screen.contains("exited with status 137; nothing was changed"),
        "{screen}"
    );
    assert!(s.tmux.alternate_screen(), "the console has its screen back");
    assert!(
        screen.contains("configmaps(demo)[1]"),
        "redrawn whole:\n{screen}"
    );
    s.no_file_left();
    s.tmux.keys(&["Escape"]);
    s.tmux.wait_for("the cancel", LONG, |sc| {
        sc.contains("cancelled: nothing was changed")
    });
    assert_eq!(s.data(), r#"{"mode":"blue"}"#);
    s.quit_sane();
}
