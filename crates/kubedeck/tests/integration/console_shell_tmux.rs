//! A shell in a container from the console, by keys in tmux: `s` on a pod
//! row hands the terminal to the container's shell, `exit` (or the pod's
//! deletion) gives it back to the console, redrawn and saying how the
//! shell ended, and the terminal is sane once the console quits. `:exec`
//! shows a one-shot command's output in a pane.

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
    pod: String,
}

impl Session {
    /// A simulator with the web pods Ready, and bash in tmux.
    fn start(tag: &str) -> Session {
        tmux::require_tmux();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        let ts = rt.block_on(testing::start());
        let pods = rt.block_on(testing::wait_pods_ready(
            &ts, "demo", "app=web", 2, None, LONG,
        ));
        let pod = pods[0]["metadata"]["name"].as_str().unwrap().to_string();
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
        let s = Session { tmux, ts, rt, pod };
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

    /// The console on the pods view, narrowed to the test's pod.
    fn console_on_pod(&self) {
        self.console_on_pod_with("");
    }

    fn console_on_pod_with(&self, args: &str) {
        self.run(&format!(
            "clear; HOME={home} XDG_CONFIG_HOME={home}/config XDG_DATA_HOME={home}/data KUBECONFIG={kc} {bin} {args}",
            home = self.ts.dir.path().display(),
            kc = self.ts.kubeconfig.display(),
            bin = BIN,
        ));
        self.tmux
            .wait_for("the overview", LONG, |s| s.contains("Overview(all)"));
        self.tmux.keys(&["1"]);
        self.tmux.keys(&["/"]);
        self.tmux.type_text(&self.pod);
        self.tmux.keys(&["Enter"]);
        let pod = self.pod.clone();
        self.tmux.wait_for("the pod's row alone", LONG, |s| {
            s.contains("Pods(all)[1]")
                && s.lines().any(|l| l.contains(&pod) && l.contains("Running"))
        });
    }

    /// `s`, then the shell's prompt on the main screen.
    fn open_shell(&self) -> String {
        self.tmux.keys(&["s"]);
        let screen = self.tmux.wait_for("the container's shell", LONG, |s| {
            s.lines().any(|l| l.trim() == "/ #")
        });
        assert!(
            !self.tmux.alternate_screen(),
            "the shell runs on the main screen:\n{screen}"
        );
        screen
    }

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

    fn audit(&self) -> String {
        std::fs::read_to_string(self.ts.dir.path().join("data/kubedeck/audit.jsonl"))
            .unwrap_or_default()
    }
}

#[test]
fn s_on_a_pod_opens_its_shell_and_exit_returns_to_the_console_intact() {
    let s = Session::start("shell");
    s.console_on_pod();
    let screen = s.open_shell();
    assert!(
        screen.contains(&format!("a shell in container web of pod/{}", s.pod)),
        "{screen}"
    );

    s.run("echo $HOSTNAME");
    let pod = s.pod.clone();
    s.tmux
        .wait_for("the pod's name from the shell", LONG, |sc| {
            sc.lines().any(|l| l.trim_end() == pod)
        });

    // The window's size reaches the remote terminal, and so do resizes.
    s.run("stty size");
    s.tmux
        .wait_for("the terminal's size in the shell", LONG, |sc| {
            sc.lines().any(|l| l.trim() == "45 160")
        });
    s.tmux
        .cmd(&["resize-window", "-t", "t", "-x", "120", "-y", "40"]);
    s.run("stty size");
    s.tmux.wait_for("the new size in the shell", LONG, |sc| {
        sc.lines().any(|l| l.trim() == "40 120")
    });

    s.run("exit");
    let screen = s.tmux.wait_for("the console, redrawn", LONG, |sc| {
        sc.contains(&format!(
            "shell in container web of pod/{pod} ended: exit code 0"
        ))
    });
    assert!(s.tmux.alternate_screen(), "the console has its screen back");
    assert!(
        screen.contains(&pod),
        "the pods view is drawn again:\n{screen}"
    );
    // It still takes keys, then gives a sane terminal back.
    s.tmux.keys(&["q"]);
    s.wait_prompt();
    s.assert_sane();

    let audit = s.audit();
    assert!(audit.contains("\"action\":\"exec\""), "{audit}");
    assert!(
        audit.contains("exec bash || exec sh"),
        "the command is audited: {audit}"
    );
    assert!(
        !audit.contains("echo $HOSTNAME"),
        "the session is not: {audit}"
    );
}

#[test]
fn read_only_refuses_the_shell_without_leaving_the_console() {
    let s = Session::start("shell-ro");
    s.console_on_pod_with("--readonly");
    s.tmux.keys(&["s"]);
    s.tmux.wait_for("the refusal", LONG, |sc| {
        sc.contains("refused: context kubedeck-sim is read-only")
    });
    assert!(s.tmux.alternate_screen(), "the console kept the terminal");
    s.tmux.keys(&["q"]);
    s.wait_prompt();
    let audit = s.audit();
    assert!(
        audit.contains("\"action\":\"exec\"") && audit.contains("\"status\":\"refused\""),
        "the refusal is audited: {audit}"
    );
}

#[test]
fn a_pod_deleted_under_its_shell_returns_to_the_console_with_a_message() {
    let s = Session::start("shell-gone");
    s.console_on_pod();
    s.open_shell();
    let out =
        s.rt.block_on(s.ts.kubectl(&["delete", "pod", &s.pod, "-n", "demo", "--wait=false"]));
    assert!(out.success, "{out:?}");
    let pod = s.pod.clone();
    s.tmux
        .wait_for("the console, saying the shell ended", LONG, |sc| {
            sc.contains(&format!(
                "shell in container web of pod/{pod} ended: exit code 137"
            ))
        });
    assert!(s.tmux.alternate_screen());
    s.tmux.keys(&["q"]);
    s.wait_prompt();
    s.assert_sane();
}

#[test]
fn colon_exec_shows_the_output_in_a_pane() {
    let s = Session::start("exec-pane");
    s.console_on_pod();
    s.tmux.keys(&[":"]);
    s.tmux.type_text("exec echo hello-from-$HOSTNAME; exit 3");
    s.tmux.keys(&["Enter"]);
    let pod = s.pod.clone();
    let screen = s.tmux.wait_for("the output pane", LONG, |sc| {
        sc.contains(&format!("hello-from-{pod}"))
    });
    assert!(screen.contains("exit code 3"), "{screen}");
    assert!(s.tmux.alternate_screen(), "the console kept its screen");
    s.tmux.keys(&["q"]);
    s.wait_prompt();
}

#[test]
fn headless_exec_it_gives_a_terminal_and_passes_the_exit_code() {
    let s = Session::start("exec-it");
    s.run(&format!(
        "clear; HOME={home} XDG_DATA_HOME={home}/data KUBECONFIG={kc} {bin} exec -it {pod} -n demo -- sh",
        home = s.ts.dir.path().display(),
        kc = s.ts.kubeconfig.display(),
        bin = BIN,
        pod = s.pod,
    ));
    s.tmux.wait_for("the container's prompt", LONG, |sc| {
        sc.lines().any(|l| l.trim() == "/ #")
    });
    s.run("stty size");
    s.tmux
        .wait_for("the terminal's size in the shell", LONG, |sc| {
            sc.lines().any(|l| l.trim() == "45 160")
        });
    s.run("exit 5");
    s.wait_prompt();
    s.run("echo STATUS $?");
    let screen = s.tmux.wait_for("the exit status", LONG, |sc| {
        sc.lines().any(|l| l.starts_with("STATUS "))
    });
    assert!(screen.contains("STATUS 5"), "{screen}");
    s.assert_sane();
}
