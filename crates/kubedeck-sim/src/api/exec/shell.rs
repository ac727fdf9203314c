//! The simulated container's shell: a small built-in command set that
//! answers from the pod itself (its name, its env, the files its ConfigMap
//! and Secret volumes mount). Nothing runs on the host: the simulator may
//! be reachable by anyone who can reach its port.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use crate::controllers::Ctx;
use crate::resources;

/// What the container looks like from inside.
#[derive(Debug, Clone, Default)]
pub(super) struct Container {
    pub(super) hostname: String,
    pub(super) env: Vec<(String, String)>,
    /// Absolute path → contents, for every key of every mounted ConfigMap
    /// and Secret.
    pub(super) files: BTreeMap<String, String>,
    /// What `ps` shows as PID 1.
    pub(super) main: String,
    /// The terminal's width and height, as the client last sent them.
    pub(super) size: Option<(u16, u16)>,
}

impl Container {
    /// The container `name` of `pod`, with its env and mounted files
    /// resolved from the store as the kubelet would.
    pub(super) fn of(ctx: &Ctx, pod: &Value, name: &str, tty: bool) -> Container {
        let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
        let hostname = pod["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let spec = pod["spec"]["containers"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == name))
            .cloned()
            .unwrap_or_default();
        let data_of = |kind: &str, obj: &str| -> BTreeMap<String, String> {
            let res = if kind == "secret" {
                &resources::SECRETS
            } else {
                &resources::CONFIGMAPS
            };
            let Some(o) = ctx.store.get(res, ns, obj) else {
                return BTreeMap::new();
            };
            let mut out = BTreeMap::new();
            if let Some(m) = o["data"].as_object() {
                for (k, v) in m {
                    let text = v.as_str().unwrap_or_default();
                    let text = if kind == "secret" {
                        base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_default()
                    } else {
                        text.to_string()
                    };
                    out.insert(k.clone(), text);
                }
            }
            if let Some(m) = o["stringData"].as_object() {
                for (k, v) in m {
                    out.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
                }
            }
            out
        };
        let mut env = vec![
            (
                "PATH".to_string(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
            ),
            ("HOSTNAME".to_string(), hostname.clone()),
        ];
        if tty {
            env.push(("TERM".to_string(), "xterm".to_string()));
        }
        for e in spec["env"].as_array().into_iter().flatten() {
            let Some(key) = e["name"].as_str() else {
                continue;
            };
            let value = if let Some(v) = e["value"].as_str() {
                Some(v.to_string())
            } else {
                let from = &e["valueFrom"];
                let pick = |kind: &str, r: &Value| {
                    let obj = r["name"].as_str()?;
                    data_of(kind, obj).remove(r["key"].as_str()?)
                };
                pick("configmap", &from["configMapKeyRef"])
                    .or_else(|| pick("secret", &from["secretKeyRef"]))
            };
            env.push((key.to_string(), value.unwrap_or_default()));
        }
        env.push(("HOME".to_string(), "/root".to_string()));
        let mut files = BTreeMap::new();
        let volumes = pod["spec"]["volumes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for m in spec["volumeMounts"].as_array().into_iter().flatten() {
            let (Some(vol), Some(path)) = (m["name"].as_str(), m["mountPath"].as_str()) else {
                continue;
            };
            let Some(v) = volumes.iter().find(|v| v["name"] == vol) else {
                continue;
            };
            let data = if let Some(n) = v["configMap"]["name"].as_str() {
                data_of("configmap", n)
            } else if let Some(n) = v["secret"]["secretName"].as_str() {
                data_of("secret", n)
            } else {
                continue;
            };
            for (k, text) in data {
                files.insert(format!("{}/{k}", path.trim_end_matches('/')), text);
            }
        }
        let main = spec["command"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                let image = spec["image"].as_str()?;
                let base = image.rsplit('/').next().unwrap_or(image);
                Some(base.split([':', '@']).next().unwrap_or(base).to_string())
            })
            .unwrap_or_else(|| "app".to_string());
        Container {
            hostname,
            env,
            files,
            main,
            size: None,
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What a command line did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Output {
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
    /// The status of the last command run.
    pub(super) status: i32,
    /// `exit` ran, or `exec` replaced the shell with a command that ended.
    pub(super) exit: Option<i32>,
    /// `exec sh` / `exec bash`: the script hands over to an interactive shell.
    pub(super) interactive: bool,
}

/// Whether `argv` starts a shell, and with which script (`sh -c SCRIPT`).
pub(super) enum Start {
    Interactive,
    Script(String),
    Command(Vec<String>),
}

pub(super) fn start(argv: &[String]) -> Start {
    let Some(first) = argv.first() else {
        return Start::Interactive;
    };
    if !is_shell(first) {
        return Start::Command(argv.to_vec());
    }
    match argv.iter().position(|a| a == "-c") {
        Some(i) => match argv.get(i + 1) {
            Some(script) => Start::Script(script.clone()),
            None => Start::Command(argv.to_vec()),
        },
        None => Start::Interactive,
    }
}

fn is_shell(word: &str) -> bool {
    matches!(
        word.rsplit('/').next().unwrap_or(word),
        "sh" | "bash" | "ash" | "dash"
    )
}

/// The builtins `command -v` knows, as their paths.
const COMMANDS: &[&str] = &[
    "cat", "echo", "env", "exit", "false", "hostname", "ls", "printenv", "ps", "pwd", "stty",
    "true", "whoami", "sh", "bash",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    /// `;`, `&&`, `||` or `|`.
    Op(&'static str),
}

/// Splits a line as a POSIX shell would for the simple cases: quotes,
/// backslashes, `$VAR`, `${VAR}`, `$?`, and the list operators.
fn tokenize(line: &str, c: &Container, last: i32) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let expand = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, word: &mut String| {
        match chars.peek() {
            Some('?') => {
                chars.next();
                word.push_str(&last.to_string());
            }
            Some('{') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                word.push_str(c.var(&name).unwrap_or_default());
            }
            Some(ch) if ch.is_ascii_alphabetic() || *ch == '_' => {
                let mut name = String::new();
                while let Some(ch) = chars.peek() {
                    if ch.is_ascii_alphanumeric() || *ch == '_' {
                        name.push(*ch);
                        chars.next();
                    } else {
                        break;
                    }
                }
                word.push_str(c.var(&name).unwrap_or_default());
            }
            _ => word.push('$'),
        }
    };
    while let Some(ch) = chars.next() {
        match ch {
            ' ' | '\t' => {
                if in_word {
                    out.push(Token::Word(std::mem::take(&mut word)));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            // `>&2`, `2>&1`: a duplication, part of the word.
            '&' if in_word && word.ends_with('>') => word.push('&'),
            ';' | '&' | '|' => {
                if in_word {
                    out.push(Token::Word(std::mem::take(&mut word)));
                    in_word = false;
                }
                let op = match (ch, chars.peek()) {
                    ('&', Some('&')) => {
                        chars.next();
                        "&&"
                    }
                    ('|', Some('|')) => {
                        chars.next();
                        "||"
                    }
                    (';', _) => ";",
                    ('|', _) => "|",
                    _ => return Err("background jobs are not supported".into()),
                };
                out.push(Token::Op(op));
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated quoted string".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => {
                            if let Some(ch) = chars.next() {
                                word.push(ch);
                            }
                        }
                        Some('$') => expand(&mut chars, &mut word),
                        Some(ch) => word.push(ch),
                        None => return Err("unterminated quoted string".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    word.push(ch);
                }
            }
            '$' => {
                in_word = true;
                expand(&mut chars, &mut word);
            }
            ch => {
                in_word = true;
                word.push(ch);
            }
        }
    }
    if in_word {
        out.push(Token::Word(word));
    }
    Ok(out)
}

/// Runs one command line; `last` is `$?` before it.
pub(super) fn run_line(c: &Container, line: &str, last: i32) -> Output {
    let mut out = Output {
        status: last,
        ..Output::default()
    };
    let tokens = match tokenize(line, c, last) {
        Ok(t) => t,
        Err(e) => {
            out.stderr = format!("sh: syntax error: {e}\n").into_bytes();
            out.status = 2;
            return out;
        }
    };
    // Each simple command with the operator that precedes it.
    let mut pending: &str = ";";
    let mut words: Vec<String> = Vec::new();
    let run = |words: &mut Vec<String>, op: &str, out: &mut Output| {
        if words.is_empty() || out.exit.is_some() || out.interactive {
            return;
        }
        let skip = (op == "&&" && out.status != 0) || (op == "||" && out.status == 0);
        let argv = std::mem::take(words);
        if !skip {
            redirected(c, &argv, out);
        }
    };
    for t in tokens {
        match t {
            Token::Word(w) => words.push(w),
            Token::Op("|") => {
                out.stderr
                    .extend_from_slice(b"sh: pipes are not supported in this simulated shell\n");
                out.status = 2;
                return out;
            }
            Token::Op(op) => {
                run(&mut words, pending, &mut out);
                pending = op;
            }
        }
    }
    run(&mut words, pending, &mut out);
    out
}

/// Runs one simple command with its redirections: output can only go to
/// /dev/null (the container's filesystem is not simulated).
fn redirected(c: &Container, argv: &[String], out: &mut Output) {
    let (mut drop_out, mut drop_err) = (false, false);
    // `>&2` sends stdout to stderr; `2>&1` stderr to stdout.
    let (mut out_to_err, mut err_to_out) = (false, false);
    let mut args = Vec::new();
    let mut words = argv.iter();
    while let Some(w) = words.next() {
        let (fd, target) = match w.as_str() {
            "2>&1" => {
                err_to_out = true;
                continue;
            }
            "1>&2" | ">&2" => {
                out_to_err = true;
                continue;
            }
            ">" | "1>" | "2>" => (
                w.starts_with('2'),
                words.next().cloned().unwrap_or_default(),
            ),
            w if w.starts_with("2>") => (true, w[2..].to_string()),
            w if w.starts_with("1>") => (false, w[2..].to_string()),
            w if w.starts_with('>') => (false, w[1..].to_string()),
            _ => {
                args.push(w.clone());
                continue;
            }
        };
        if target != "/dev/null" {
            out.stderr.extend_from_slice(
                format!("sh: can't create {target}: Read-only file system\n").as_bytes(),
            );
            out.status = 1;
            return;
        }
        if fd {
            drop_err = true;
        } else {
            drop_out = true;
        }
    }
    let mut inner = Output {
        status: out.status,
        ..Output::default()
    };
    command(c, &args, &mut inner);
    if out_to_err {
        let moved = std::mem::take(&mut inner.stdout);
        inner.stderr.extend(moved);
    }
    if err_to_out {
        let moved = std::mem::take(&mut inner.stderr);
        inner.stdout.extend(moved);
    }
    if !drop_out {
        out.stdout.extend(inner.stdout);
    }
    if !drop_err {
        out.stderr.extend(inner.stderr);
    }
    out.status = inner.status;
    out.exit = out.exit.or(inner.exit);
    out.interactive |= inner.interactive;
}

/// Runs one simple command.
fn command(c: &Container, argv: &[String], out: &mut Output) {
    let Some((name, args)) = argv.split_first() else {
        return;
    };
    let say = |out: &mut Output, text: String| out.stdout.extend_from_slice(text.as_bytes());
    let fail = |out: &mut Output, text: String, status: i32| {
        out.stderr.extend_from_slice(text.as_bytes());
        out.status = status;
    };
    out.status = 0;
    match name.rsplit('/').next().unwrap_or(name) {
        "echo" => {
            let (newline, args) = match args.first().map(String::as_str) {
                Some("-n") => (false, &args[1..]),
                _ => (true, args),
            };
            let mut text = args.join(" ");
            if newline {
                text.push('\n');
            }
            say(out, text);
        }
        "hostname" => say(out, format!("{}\n", c.hostname)),
        "env" if args.is_empty() => {
            let text: String = c.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            say(out, text);
        }
        "printenv" => {
            if args.is_empty() {
                let text: String = c.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
                say(out, text);
            } else {
                let mut missing = false;
                for a in args {
                    match c.var(a) {
                        Some(v) => say(out, format!("{v}\n")),
                        None => missing = true,
                    }
                }
                out.status = i32::from(missing);
            }
        }
        "pwd" => say(out, "/\n".into()),
        "stty" if args == ["size"] => match c.size {
            Some((w, h)) => say(out, format!("{h} {w}\n")),
            None => fail(out, "stty: standard input: Not a tty\n".into(), 1),
        },
        "whoami" => say(out, "root\n".into()),
        "true" => {}
        "false" => out.status = 1,
        "exit" => {
            let code = match args.first() {
                None => out.status,
                Some(a) => a.parse::<i32>().map(|n| n & 0xff).unwrap_or(2),
            };
            out.status = code;
            out.exit = Some(code);
        }
        "cat" => {
            for a in args {
                match c.files.get(a.as_str()) {
                    Some(text) => say(out, text.clone()),
                    None if is_dir(c, a) => {
                        fail(out, format!("cat: {a}: Is a directory\n"), 1);
                    }
                    None => fail(out, format!("cat: {a}: No such file or directory\n"), 1),
                }
            }
        }
        "ls" => {
            let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
            let root = "/".to_string();
            let paths = if paths.is_empty() { vec![&root] } else { paths };
            for p in paths {
                match list(c, p) {
                    Some(entries) => say(out, entries.join("\n") + "\n"),
                    None => fail(
                        out,
                        format!("ls: cannot access '{p}': No such file or directory\n"),
                        2,
                    ),
                }
            }
        }
        "ps" => say(
            out,
            format!(
                "PID   USER     TIME  COMMAND\n    1 root      0:00 {}\n    7 root      0:00 sh\n",
                c.main
            ),
        ),
        "command" if args.first().is_some_and(|a| a == "-v") => {
            let mut missing = false;
            for a in &args[1..] {
                if COMMANDS.contains(&a.as_str()) {
                    say(out, format!("/bin/{a}\n"));
                } else {
                    missing = true;
                }
            }
            out.status = i32::from(missing);
        }
        "exec" => match args.first() {
            None => {}
            Some(s) if is_shell(s) && args.len() == 1 => out.interactive = true,
            Some(_) => {
                command(c, args, out);
                out.exit = Some(out.status);
            }
        },
        // A shell started from the shell: a script runs, a bare one is
        // the same prompt.
        "sh" | "bash" | "ash" | "dash" => {
            if let Some(i) = args.iter().position(|a| a == "-c")
                && let Some(script) = args.get(i + 1)
            {
                let inner = run_line(c, script, out.status);
                out.stdout.extend(inner.stdout);
                out.stderr.extend(inner.stderr);
                out.status = inner.status;
            }
        }
        _ => fail(out, format!("sh: {name}: command not found\n"), 127),
    }
}

fn is_dir(c: &Container, path: &str) -> bool {
    let prefix = format!("{}/", path.trim_end_matches('/'));
    path == "/" || c.files.keys().any(|f| f.starts_with(&prefix))
}

/// The entries of a directory (the names under it, one level deep), or
/// the file itself.
fn list(c: &Container, path: &str) -> Option<Vec<String>> {
    if c.files.contains_key(path) {
        return Some(vec![path.to_string()]);
    }
    let mut names: Vec<String> = if path == "/" {
        [
            "bin", "dev", "etc", "home", "proc", "root", "sys", "tmp", "usr", "var",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    } else {
        Vec::new()
    };
    let prefix = format!("{}/", path.trim_end_matches('/'));
    let prefix = if path == "/" { "/".to_string() } else { prefix };
    for f in c.files.keys() {
        if let Some(rest) = f.strip_prefix(&prefix) {
            let first = rest.split('/').next().unwrap_or(rest).to_string();
            if !names.contains(&first) {
                names.push(first);
            }
        }
    }
    if names.is_empty() {
        return None;
    }
    names.sort();
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Container {
        Container {
            hostname: "web-1".into(),
            env: vec![
                ("HOSTNAME".into(), "web-1".into()),
                ("MODE".into(), "blue".into()),
            ],
            files: BTreeMap::from([("/etc/app/mode".into(), "blue\n".into())]),
            main: "nginx".into(),
            size: Some((80, 24)),
        }
    }

    fn run(line: &str) -> (String, String, i32, Option<i32>) {
        let o = run_line(&pod(), line, 0);
        (
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
            o.status,
            o.exit,
        )
    }

    #[test]
    fn builtins_answer_from_the_pod() {
        assert_eq!(run("hostname").0, "web-1\n");
        assert_eq!(run("stty size").0, "24 80\n");
        assert_eq!(
            run("echo $HOSTNAME \"${MODE}\" '$MODE'").0,
            "web-1 blue $MODE\n"
        );
        assert_eq!(run("cat /etc/app/mode").0, "blue\n");
        assert_eq!(run("ls /etc/app").0, "mode\n");
        assert!(run("env").0.contains("MODE=blue\n"));
        assert!(run("ps").0.contains("1 root      0:00 nginx"));
    }

    #[test]
    fn unknown_commands_and_missing_files_fail_as_a_shell_does() {
        let (out, err, status, _) = run("curl x");
        assert_eq!((out.as_str(), status), ("", 127));
        assert_eq!(err, "sh: curl: command not found\n");
        assert_eq!(run("cat /nope").2, 1);
        assert_eq!(run("false || echo no").0, "no\n");
        assert_eq!(run("false && echo yes").0, "");
        assert_eq!(run("echo oops >&2").1, "oops\n");
        assert_eq!(run("cat /nope 2>/dev/null").1, "");
    }

    #[test]
    fn exit_ends_with_its_code_and_k9s_shell_line_goes_interactive() {
        assert_eq!(run("echo a; exit 3; echo b").3, Some(3));
        assert_eq!(run("echo a; exit 3; echo b").0, "a\n");
        let o = run_line(
            &pod(),
            "command -v bash >/dev/null && exec bash || exec sh",
            0,
        );
        assert!(o.interactive);
        assert!(o.stdout.is_empty());
        assert!(matches!(start(&["ls".into()]), Start::Command(_)));
        assert!(matches!(start(&["/bin/sh".into()]), Start::Interactive));
    }
}
