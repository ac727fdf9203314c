//! What a simulated container does when it runs: serve forever, or exit
//! after a while with a code, as batch and backup workloads do.
//!
//! Batch pods (`restartPolicy: Never|OnFailure`) run for a few seconds and
//! exit 0. Database backup containers (`pg_dump`, `pg_dumpall`, `mysqldump`,
//! `redis-cli --rdb|BGSAVE`) only succeed when the database they name has a
//! Ready pod behind its Service, and their logs tell that story.
//!
//! Everything here is deterministic: the same pod (uid, spec, seed) always
//! runs as long and logs the same text.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::controllers::Ctx;
use super::resources;
use super::store::{meta_str, parse_time};
use kubedeck_kube::selector::LabelSelector;

/// Overrides how long a batch container runs, in seconds.
pub const RUN_SECONDS_ANNOTATION: &str = "sim.kubedeck.io/run-seconds";
/// Overrides the exit code of a batch container.
pub const EXIT_CODE_ANNOTATION: &str = "sim.kubedeck.io/exit-code";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerFate {
    RunForever,
    Exit {
        after: Duration,
        code: i32,
        /// "Completed" or "Error", as the kubelet reports a terminated container.
        reason: &'static str,
    },
}

fn exit(after: Duration, code: i32) -> ContainerFate {
    ContainerFate::Exit {
        after,
        code,
        reason: if code == 0 { "Completed" } else { "Error" },
    }
}

/// Decides what `container` of `pod` does once started.
pub fn outcome(ctx: &Ctx, pod: &Value, container: &Value) -> ContainerFate {
    let run_override = annotation(pod, RUN_SECONDS_ANNOTATION)
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64);
    let code_override = annotation(pod, EXIT_CODE_ANNOTATION).and_then(|s| s.trim().parse().ok());

    if let Some(backup) = Backup::of(container) {
        let run = BackupRun::plan(ctx, pod, container, &backup, None);
        return exit(
            run_override.unwrap_or(run.duration),
            code_override.unwrap_or(run.code()),
        );
    }
    let batch = matches!(
        pod["spec"]["restartPolicy"].as_str(),
        Some("Never" | "OnFailure")
    );
    if !batch && run_override.is_none() && code_override.is_none() {
        return ContainerFate::RunForever;
    }
    let default_run = {
        // 2.0..4.0 s, fixed per pod and container.
        let h = hash(&[
            &ctx.config.seed.to_string(),
            meta_str(pod, "uid"),
            container["name"].as_str().unwrap_or(""),
        ]);
        Duration::from_millis(2000 + h % 2001)
    };
    exit(
        run_override.unwrap_or(default_run),
        code_override.unwrap_or(0),
    )
}

/// The log of a backup container that started at `started`, up to `until`;
/// None for every other container (the kubelet's generator covers those).
pub fn log_lines(
    ctx: &Ctx,
    pod: &Value,
    container: &Value,
    started: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<Vec<(DateTime<Utc>, String)>> {
    let backup = Backup::of(container)?;
    let known = finished_code(pod, container["name"].as_str().unwrap_or(""), started);
    let run = BackupRun::plan(ctx, pod, container, &backup, known);
    Some(
        run.lines(&backup, started)
            .into_iter()
            .filter(|(t, _)| *t <= until)
            .collect(),
    )
}

fn annotation<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod["metadata"]["annotations"][key].as_str()
}

/// The exit code of the run of `name` that started at `started`, once it
/// has terminated: what was, not what would be now.
fn finished_code(pod: &Value, name: &str, started: DateTime<Utc>) -> Option<i32> {
    let statuses = pod["status"]["containerStatuses"].as_array()?;
    let init = pod["status"]["initContainerStatuses"].as_array();
    let status = statuses
        .iter()
        .chain(init.into_iter().flatten())
        .find(|s| s["name"].as_str() == Some(name))?;
    [
        &status["state"]["terminated"],
        &status["lastState"]["terminated"],
    ]
    .into_iter()
    .filter(|t| t.is_object())
    .find(|t| {
        t["startedAt"]
            .as_str()
            .and_then(parse_time)
            .is_some_and(|at| (at - started).num_seconds().abs() <= 1)
    })
    .and_then(|t| t["exitCode"].as_i64())
    .and_then(|c| i32::try_from(c).ok())
}

/// FNV-1a over the parts, separated so ("ab","c") != ("a","bc").
fn hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    PgDump,
    PgDumpAll,
    MysqlDump,
    RedisRdb,
    RedisBgsave,
}

impl Tool {
    fn default_port(self) -> u16 {
        match self {
            Tool::PgDump | Tool::PgDumpAll => 5432,
            Tool::MysqlDump => 3306,
            Tool::RedisRdb | Tool::RedisBgsave => 6379,
        }
    }

    fn program(self) -> &'static str {
        match self {
            Tool::PgDump => "pg_dump",
            Tool::PgDumpAll => "pg_dumpall",
            Tool::MysqlDump => "mysqldump",
            Tool::RedisRdb | Tool::RedisBgsave => "redis-cli",
        }
    }
}

/// A backup command as read from a container's command and args.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Backup {
    tool: Tool,
    /// None: the default, a local socket.
    host: Option<String>,
    port: u16,
    db: String,
    /// Where the dump goes (`-f`, `--result-file`, `--rdb`, a `>` redirect).
    output: Option<String>,
}

impl Backup {
    fn of(container: &Value) -> Option<Backup> {
        let argv: Vec<String> = ["command", "args"]
            .iter()
            .filter_map(|k| container[*k].as_array())
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let mut env: HashMap<String, String> = HashMap::new();
        if let Some(vars) = container["env"].as_array() {
            for v in vars {
                if let (Some(n), Some(val)) = (v["name"].as_str(), v["value"].as_str()) {
                    env.insert(n.to_string(), val.to_string());
                }
            }
        }
        let script = shell_script(&argv);
        let commands = match script {
            Some(s) => split_commands(&s),
            None => vec![SimpleCommand {
                words: argv,
                redirect: None,
                piped: false,
            }],
        };
        for (at, cmd) in commands.iter().enumerate() {
            // Assignments before or as the command: `X=1 pg_dump`, `export X=1`.
            let mut words = cmd.words.as_slice();
            if words.first().map(String::as_str) == Some("export") {
                words = &words[1..];
                for w in words {
                    if let Some((k, v)) = assignment(w) {
                        env.insert(k.to_string(), expand(v, &env));
                    }
                }
                continue;
            }
            while let Some((k, v)) = words.first().and_then(|w| assignment(w)) {
                env.insert(k.to_string(), expand(v, &env));
                words = &words[1..];
            }
            while matches!(
                words.first().map(String::as_str),
                Some("exec" | "time" | "nice" | "nohup")
            ) {
                words = &words[1..];
            }
            let Some(program) = words.first() else {
                continue;
            };
            let args: Vec<String> = words[1..].iter().map(|w| expand(w, &env)).collect();
            let redirect = cmd.redirect.as_deref().map(|r| expand(r, &env));
            let parsed = match program.rsplit('/').next().unwrap_or(program) {
                "pg_dump" => Some(parse_pg(Tool::PgDump, &args, &env)),
                "pg_dumpall" => Some(parse_pg(Tool::PgDumpAll, &args, &env)),
                "mysqldump" | "mariadb-dump" => Some(parse_mysql(&args, &env)),
                "redis-cli" => parse_redis(&args, &env),
                _ => None,
            };
            if let Some(mut b) = parsed {
                if b.output.is_none() {
                    // `pg_dump … | gzip > FILE`: the pipeline's last redirect.
                    let mut target = redirect;
                    let mut i = at;
                    while commands[i].piped && i + 1 < commands.len() {
                        i += 1;
                        if let Some(r) = &commands[i].redirect {
                            target = Some(expand(r, &env));
                        }
                    }
                    b.output = target;
                }
                return Some(b);
            }
        }
        None
    }
}

/// `NAME=value` as a shell assignment.
fn assignment(w: &str) -> Option<(&str, &str)> {
    let (k, v) = w.split_once('=')?;
    let valid = !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((k, v))
}

/// The script of `sh -c SCRIPT` (bash, ash, `-ec`, `-euo pipefail -c`…).
fn shell_script(argv: &[String]) -> Option<String> {
    let shell = argv.first()?.rsplit('/').next()?;
    if !matches!(shell, "sh" | "bash" | "ash" | "dash" | "zsh") {
        return None;
    }
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if a.starts_with('-') && !a.starts_with("--") && a.contains('c') {
            return argv.get(i + 1).cloned();
        }
        // `-o pipefail` takes a value.
        if a == "-o" {
            i += 1;
        }
        i += 1;
    }
    None
}

struct SimpleCommand {
    words: Vec<String>,
    /// The target of `>` / `>>` on stdout.
    redirect: Option<String>,
    /// Its output feeds the next command (`a | b`).
    piped: bool,
}

/// Splits a shell script into simple commands at `|`, `&&`, `||`, `;`, `&`
/// and newlines, honouring quotes. Words keep `$…` unexpanded; expansion
/// happens per command, after earlier assignments took effect.
fn split_commands(script: &str) -> Vec<SimpleCommand> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut redirect = None;
    let mut pending_redirect: Option<bool> = None; // Some(true) for stdout
    let mut cur = String::new();
    let mut in_word = false;
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;

    let finish_word = |cur: &mut String,
                       in_word: &mut bool,
                       words: &mut Vec<String>,
                       redirect: &mut Option<String>,
                       pending: &mut Option<bool>| {
        if !*in_word {
            return;
        }
        let w = std::mem::take(cur);
        *in_word = false;
        match pending.take() {
            Some(true) => *redirect = Some(w),
            Some(false) => {}
            None => words.push(w),
        }
    };

    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    // Protect `$` from later expansion inside single quotes.
                    if chars[i] == '$' {
                        cur.push('\u{1}');
                    } else {
                        cur.push(chars[i]);
                    }
                    i += 1;
                }
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    cur.push(chars[i]);
                    i += 1;
                }
            }
            '\\' if i + 1 < chars.len() => {
                in_word = true;
                if chars[i + 1] != '\n' {
                    cur.push(chars[i + 1]);
                }
                i += 1;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                // `$(…)` is one word part, spaces and all.
                in_word = true;
                let mut depth = 0;
                while i < chars.len() {
                    cur.push(chars[i]);
                    if chars[i] == '(' {
                        depth += 1;
                    } else if chars[i] == ')' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
            }
            '`' => {
                in_word = true;
                cur.push_str("$(");
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    cur.push(chars[i]);
                    i += 1;
                }
                cur.push(')');
            }
            '>' | '<' => {
                // A file descriptor number just before: `2>`, `2>&1`.
                let fd_stdout = if in_word && cur.chars().all(|d| d.is_ascii_digit()) {
                    let out = c == '>' && cur == "1";
                    cur.clear();
                    in_word = false;
                    out
                } else {
                    finish_word(
                        &mut cur,
                        &mut in_word,
                        &mut words,
                        &mut redirect,
                        &mut pending_redirect,
                    );
                    c == '>'
                };
                while matches!(chars.get(i + 1), Some('>' | '|')) {
                    i += 1;
                }
                if chars.get(i + 1) == Some(&'&') {
                    // `>&2`: a descriptor, not a file.
                    i += 1;
                    pending_redirect = Some(false);
                } else {
                    pending_redirect = Some(fd_stdout);
                }
            }
            '|' | '&' | ';' | '\n' | '(' | ')' => {
                finish_word(
                    &mut cur,
                    &mut in_word,
                    &mut words,
                    &mut redirect,
                    &mut pending_redirect,
                );
                let doubled = matches!(c, '|' | '&') && chars.get(i + 1) == Some(&c);
                if doubled {
                    i += 1;
                }
                if !words.is_empty() || redirect.is_some() {
                    out.push(SimpleCommand {
                        words: std::mem::take(&mut words),
                        redirect: redirect.take(),
                        piped: c == '|' && !doubled,
                    });
                }
                pending_redirect = None;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            c if c.is_whitespace() => finish_word(
                &mut cur,
                &mut in_word,
                &mut words,
                &mut redirect,
                &mut pending_redirect,
            ),
            c => {
                in_word = true;
                cur.push(c);
            }
        }
        i += 1;
    }
    finish_word(
        &mut cur,
        &mut in_word,
        &mut words,
        &mut redirect,
        &mut pending_redirect,
    );
    if !words.is_empty() || redirect.is_some() {
        out.push(SimpleCommand {
            words,
            redirect,
            piped: false,
        });
    }
    out
}

/// Expands `$VAR`, `${VAR}` and `${VAR:-default}` from `env`; command
/// substitutions stay as written (the log renders `$(date …)` itself).
fn expand(word: &str, env: &HashMap<String, String>) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(if chars[i] == '\u{1}' { '$' } else { chars[i] });
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('{') => {
                let end = chars[i..].iter().position(|&c| c == '}').map(|p| p + i);
                let Some(end) = end else {
                    out.extend(&chars[i..]);
                    break;
                };
                let inner: String = chars[i + 2..end].iter().collect();
                let (name, default) = match inner.split_once(":-").or(inner.split_once('-')) {
                    Some((n, d)) => (n.to_string(), Some(d.to_string())),
                    None => (inner.clone(), None),
                };
                match env.get(&name).filter(|v| !v.is_empty()) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&default.unwrap_or_default()),
                }
                i = end + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_')
                {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                out.push_str(env.get(&name).map_or("", String::as_str));
                i = end;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    out
}

/// Host, port, user and database from a URL such as
/// `postgresql://app:secret@postgres:5432/shop?sslmode=disable`.
fn parse_url(s: &str) -> Option<(String, Option<u16>, String, String)> {
    let (_, rest) = s.split_once("://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("", authority));
    let user = userinfo.split(':').next().unwrap_or("").to_string();
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().ok()),
        None => (hostport.to_string(), None),
    };
    let db = path.split('?').next().unwrap_or("").to_string();
    Some((host, port, user, db))
}

/// The value of an option given as `-hX`, `-h X`, `--host=X` or `--host X`.
struct Opts<'a> {
    args: &'a [String],
}

impl Opts<'_> {
    /// Walks the arguments; `takes_value` says which short/long options
    /// consume a value. Calls `f(option, value)`; positionals come as ("", arg).
    fn walk(&self, takes_value: &[&str], mut f: impl FnMut(&str, &str)) {
        let mut i = 0;
        while i < self.args.len() {
            let a = self.args[i].as_str();
            if let Some(long) = a.strip_prefix("--") {
                match long.split_once('=') {
                    Some((k, v)) => f(k, v),
                    None if takes_value.contains(&long) => {
                        f(long, self.args.get(i + 1).map_or("", String::as_str));
                        i += 1;
                    }
                    None => f(long, ""),
                }
            } else if let Some(short) = a.strip_prefix('-').filter(|s| !s.is_empty()) {
                let (k, attached) = short.split_at(short.chars().next().map_or(0, char::len_utf8));
                if takes_value.contains(&k) {
                    if attached.is_empty() {
                        f(k, self.args.get(i + 1).map_or("", String::as_str));
                        i += 1;
                    } else {
                        f(k, attached);
                    }
                } else {
                    f(k, attached);
                }
            } else {
                f("", a);
            }
            i += 1;
        }
    }
}

fn parse_pg(tool: Tool, args: &[String], env: &HashMap<String, String>) -> Backup {
    let mut host = env.get("PGHOST").cloned();
    let mut port = env.get("PGPORT").and_then(|p| p.parse().ok());
    let mut user = env.get("PGUSER").cloned();
    let mut db = env.get("PGDATABASE").cloned();
    let mut output = None;
    let apply_conn = |s: &str,
                      host: &mut Option<String>,
                      port: &mut Option<u16>,
                      user: &mut Option<String>,
                      db: &mut Option<String>| {
        if let Some((h, p, u, d)) = parse_url(s) {
            *host = Some(h).filter(|h| !h.is_empty()).or(host.take());
            *port = p.or(*port);
            *user = Some(u).filter(|u| !u.is_empty()).or(user.take());
            *db = Some(d).filter(|d| !d.is_empty()).or(db.take());
        } else if s.contains('=') {
            // A conninfo string: `host=postgres port=5432 dbname=shop`.
            for kv in s.split_whitespace() {
                match kv.split_once('=') {
                    Some(("host", v)) => *host = Some(v.to_string()),
                    Some(("port", v)) => *port = v.parse().ok().or(*port),
                    Some(("user", v)) => *user = Some(v.to_string()),
                    Some(("dbname", v)) => *db = Some(v.to_string()),
                    _ => {}
                }
            }
        } else {
            *db = Some(s.to_string());
        }
    };
    let takes = [
        "h",
        "p",
        "U",
        "d",
        "f",
        "F",
        "n",
        "N",
        "t",
        "T",
        "j",
        "Z",
        "E",
        "l",
        "S",
        "host",
        "port",
        "username",
        "dbname",
        "file",
        "format",
        "schema",
        "table",
        "jobs",
        "compress",
        "encoding",
        "role",
        "exclude-schema",
        "exclude-table",
        "exclude-table-data",
        "database",
    ];
    Opts { args }.walk(&takes, |k, v| match k {
        "h" | "host" => host = Some(v.to_string()),
        "p" | "port" => port = v.parse().ok().or(port),
        "U" | "username" => user = Some(v.to_string()),
        "d" | "dbname" => apply_conn(v, &mut host, &mut port, &mut user, &mut db),
        "f" | "file" => output = Some(v.to_string()),
        "" if tool == Tool::PgDump => apply_conn(v, &mut host, &mut port, &mut user, &mut db),
        _ => {}
    });
    let db = match tool {
        Tool::PgDumpAll => "all".to_string(),
        _ => db.or(user).unwrap_or_else(|| "postgres".to_string()),
    };
    Backup {
        tool,
        host: host.filter(|h| !h.is_empty() && !h.starts_with('/')),
        port: port.unwrap_or(tool.default_port()),
        db,
        output,
    }
}

fn parse_mysql(args: &[String], env: &HashMap<String, String>) -> Backup {
    let mut host = env.get("MYSQL_HOST").cloned();
    let mut port = env.get("MYSQL_TCP_PORT").and_then(|p| p.parse().ok());
    let mut dbs: Vec<String> = Vec::new();
    let mut all = false;
    let mut output = None;
    // `-p` is the password here and only ever attached (`-psecret`).
    let takes = [
        "h",
        "u",
        "P",
        "r",
        "S",
        "host",
        "user",
        "port",
        "result-file",
        "socket",
        "default-character-set",
        "where",
        "ignore-table",
    ];
    Opts { args }.walk(&takes, |k, v| match k {
        "h" | "host" => host = Some(v.to_string()),
        "P" | "port" => port = v.parse().ok().or(port),
        "r" | "result-file" => output = Some(v.to_string()),
        "A" | "all-databases" => all = true,
        "" => dbs.push(v.to_string()),
        _ => {}
    });
    let db = if all || dbs.is_empty() {
        "all-databases".to_string()
    } else {
        dbs[0].clone()
    };
    Backup {
        tool: Tool::MysqlDump,
        host: host.filter(|h| !h.is_empty() && h != "localhost"),
        port: port.unwrap_or(3306),
        db,
        output,
    }
}

fn parse_redis(args: &[String], env: &HashMap<String, String>) -> Option<Backup> {
    let mut host = env.get("REDIS_HOST").cloned();
    let mut port = env.get("REDIS_PORT").and_then(|p| p.parse().ok());
    let mut rdb = None;
    let mut bgsave = false;
    let takes = ["h", "p", "a", "n", "u", "rdb", "user", "pass", "tls"];
    Opts { args }.walk(&takes, |k, v| match k {
        "h" => host = Some(v.to_string()),
        "p" => port = v.parse().ok().or(port),
        "u" => {
            if let Some((h, p, _, _)) = parse_url(v) {
                host = Some(h);
                port = p.or(port);
            }
        }
        "rdb" => rdb = Some(v.to_string()),
        "" if v.eq_ignore_ascii_case("bgsave") => bgsave = true,
        _ => {}
    });
    let tool = match (&rdb, bgsave) {
        (Some(_), _) => Tool::RedisRdb,
        (None, true) => Tool::RedisBgsave,
        (None, false) => return None,
    };
    Some(Backup {
        tool,
        host: host.filter(|h| !h.is_empty() && h != "127.0.0.1" && h != "localhost"),
        port: port.unwrap_or(6379),
        db: "redis".to_string(),
        output: rdb,
    })
}

/// Whether a database host answers, seen from a pod's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    /// A Ready pod is behind it.
    Up { ip: String },
    /// The name resolves but nothing listens: connection refused.
    Refused { ip: String },
    /// No such Service: the name does not resolve.
    NoSuchHost,
    /// No host given: the local socket, and nothing runs there.
    NoLocalServer,
}

fn reach(ctx: &Ctx, ns: &str, host: Option<&str>) -> Reach {
    let Some(host) = host else {
        return Reach::NoLocalServer;
    };
    let host = host.trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().all(|l| l.parse::<u8>().is_ok()) && labels.len() == 4 {
        return reach_ip(ctx, host);
    }
    // `svc`, `svc.ns`, `svc.ns.svc[.cluster.local]`, or a StatefulSet pod's
    // `pod.svc.ns.svc.cluster.local`.
    let suffix_at = labels
        .iter()
        .position(|l| *l == "svc")
        .unwrap_or(labels.len());
    let (pod, svc, svc_ns) = match suffix_at {
        0 => return Reach::NoSuchHost,
        1 => (None, labels[0], ns),
        2 if labels.len() > 2 => (None, labels[0], labels[1]),
        2 => {
            // `a.b`: a Service in namespace b, or pod a of Service b here.
            if ctx
                .store
                .get(&resources::SERVICES, labels[1], labels[0])
                .is_some()
            {
                (None, labels[0], labels[1])
            } else {
                (Some(labels[0]), labels[1], ns)
            }
        }
        3 => (Some(labels[0]), labels[1], labels[2]),
        _ => return Reach::NoSuchHost,
    };
    let Some(service) = ctx.store.get(&resources::SERVICES, svc_ns, svc) else {
        return Reach::NoSuchHost;
    };
    let ip = service["spec"]["clusterIP"]
        .as_str()
        .filter(|ip| !ip.is_empty() && *ip != "None")
        .map(str::to_string)
        .unwrap_or_else(|| fake_ip(svc_ns, svc));
    if service["spec"]["type"].as_str() == Some("ExternalName") {
        return Reach::Up { ip };
    }
    let ready = ready_backends(ctx, &service);
    let up = match pod {
        Some(p) => ready.iter().any(|(name, _)| name == p),
        None => !ready.is_empty(),
    };
    match (up, pod) {
        (true, Some(p)) => Reach::Up {
            ip: ready
                .iter()
                .find(|(n, _)| n == p)
                .map_or(ip, |(_, pip)| pip.clone()),
        },
        (true, None) => Reach::Up { ip },
        (false, _) => Reach::Refused { ip },
    }
}

fn reach_ip(ctx: &Ctx, ip: &str) -> Reach {
    for svc in ctx.store.list(&resources::SERVICES, None) {
        if svc["spec"]["clusterIP"].as_str() == Some(ip) {
            return if ready_backends(ctx, &svc).is_empty() {
                Reach::Refused { ip: ip.to_string() }
            } else {
                Reach::Up { ip: ip.to_string() }
            };
        }
    }
    let pod_up = ctx
        .store
        .list(&resources::PODS, None)
        .iter()
        .any(|p| p["status"]["podIP"].as_str() == Some(ip) && pod_ready(p));
    if pod_up {
        Reach::Up { ip: ip.to_string() }
    } else {
        Reach::Refused { ip: ip.to_string() }
    }
}

fn pod_ready(pod: &Value) -> bool {
    pod["metadata"]["deletionTimestamp"].is_null()
        && pod["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// (name, ip) of the Ready pods a Service sends traffic to: its selector's
/// pods, read straight from the store so the answer does not wait for the
/// endpoints controller; a selector-less Service uses its Endpoints.
fn ready_backends(ctx: &Ctx, service: &Value) -> Vec<(String, String)> {
    let ns = meta_str(service, "namespace");
    let selector = &service["spec"]["selector"];
    if selector.as_object().is_some_and(|m| !m.is_empty()) {
        let sel = LabelSelector::from_map(selector);
        return ctx
            .store
            .list(&resources::PODS, Some(ns))
            .iter()
            .filter(|p| sel.matches(&p["metadata"]["labels"]) && pod_ready(p))
            .map(|p| {
                (
                    meta_str(p, "name").to_string(),
                    p["status"]["podIP"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
    }
    let Some(ep) = ctx
        .store
        .get(&resources::ENDPOINTS, ns, meta_str(service, "name"))
    else {
        return Vec::new();
    };
    ep["subsets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["addresses"].as_array().into_iter().flatten())
        .map(|a| {
            (
                a["targetRef"]["name"].as_str().unwrap_or("").to_string(),
                a["ip"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A stable service-range address for a Service without a clusterIP yet.
fn fake_ip(ns: &str, name: &str) -> String {
    let h = hash(&[ns, name]);
    format!("10.96.{}.{}", (h >> 8) % 256, h % 254 + 1)
}

/// One run of a backup container, fully decided up front.
struct BackupRun {
    reach: Reach,
    /// How long the process runs.
    duration: Duration,
    /// (table, bytes) dumped, in order.
    tables: Vec<(String, u64)>,
    /// Forced by the container's recorded exit code or the annotation.
    code_override: Option<i32>,
}

const TABLE_POOL: &[&str] = &[
    "users",
    "accounts",
    "sessions",
    "transactions",
    "orders",
    "order_items",
    "products",
    "inventory",
    "payments",
    "invoices",
    "customers",
    "addresses",
    "audit_log",
    "events",
    "notifications",
    "settings",
    "api_keys",
    "metrics",
    "alerts",
    "jobs",
];

impl BackupRun {
    fn plan(
        ctx: &Ctx,
        pod: &Value,
        container: &Value,
        backup: &Backup,
        known_code: Option<i32>,
    ) -> BackupRun {
        let ns = meta_str(pod, "namespace");
        let reach = reach(ctx, ns, backup.host.as_deref());
        let seed = ctx.config.seed.to_string();
        let host = backup.host.as_deref().unwrap_or("localhost");
        let db_hash = hash(&[&seed, ns, host, &backup.db]);
        // 24..~900 MiB, skewed toward the small end, fixed per database.
        let total_mib = 24 + (db_hash % 31).pow(2);
        let tables = Self::tables(&backup.db, db_hash, total_mib * 1024 * 1024);
        let code_override = known_code
            .or_else(|| annotation(pod, EXIT_CODE_ANNOTATION).and_then(|s| s.trim().parse().ok()));
        let jitter = hash(&[
            &seed,
            meta_str(pod, "uid"),
            container["name"].as_str().unwrap_or(""),
        ]);
        let duration = match reach {
            Reach::Up { .. } => {
                // About 80 MiB/s plus connecting and finishing.
                Duration::from_millis(600 + total_mib * 1000 / 80 + jitter % 400)
            }
            _ => Duration::from_millis(900 + jitter % 300),
        };
        BackupRun {
            reach,
            duration,
            tables,
            code_override,
        }
    }

    fn code(&self) -> i32 {
        if let Some(c) = self.code_override {
            return c;
        }
        match self.reach {
            Reach::Up { .. } => 0,
            _ => 1,
        }
    }

    /// A deterministic table list for a database: 5 to 10 tables from the
    /// pool, with sizes adding up to `total` bytes.
    fn tables(db: &str, h: u64, total: u64) -> Vec<(String, u64)> {
        let count = 5 + (h % 6) as usize;
        let mut picked: Vec<&str> = Vec::new();
        let mut k = 0u64;
        while picked.len() < count {
            let t = TABLE_POOL[(hash(&[db, &k.to_string()]) % TABLE_POOL.len() as u64) as usize];
            if !picked.contains(&t) {
                picked.push(t);
            }
            k += 1;
        }
        picked.sort_unstable();
        let weights: Vec<u64> = picked.iter().map(|t| 1 + hash(&[db, t]) % 100).collect();
        let sum: u64 = weights.iter().sum();
        picked
            .iter()
            .zip(&weights)
            .map(|(t, w)| (t.to_string(), total * w / sum))
            .collect()
    }

    fn lines(&self, backup: &Backup, started: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
        let at = |ms: u64| started + chrono::Duration::milliseconds(ms as i64);
        let total_ms = self.duration.as_millis() as u64;
        let prog = backup.tool.program();
        let host = backup.host.as_deref().unwrap_or("localhost");
        let mut out = Vec::new();
        if self.code() != 0 {
            let fail_at = at(total_ms.saturating_sub(50));
            for line in self.failure_lines(backup) {
                out.push((fail_at, line));
            }
            return out;
        }
        let total: u64 = self.tables.iter().map(|(_, b)| b).sum();
        let dump_start = 400u64;
        let dump_ms = total_ms.saturating_sub(dump_start + 150);
        let mut done = 0u64;
        match backup.tool {
            Tool::PgDump | Tool::PgDumpAll => {
                for (i, l) in [
                    "last built-in OID is 16383",
                    "reading extensions",
                    "identifying extension members",
                    "reading schemas",
                    "reading user-defined tables",
                    "reading indexes",
                    "reading constraints",
                    "saving encoding = UTF8",
                ]
                .iter()
                .enumerate()
                {
                    out.push((at(40 + 40 * i as u64), format!("{prog}: {l}")));
                }
                for (t, bytes) in &self.tables {
                    let t_ms = dump_start + dump_ms * done / total.max(1);
                    out.push((
                        at(t_ms),
                        format!(
                            "{prog}: dumping contents of table \"public.{t}\" ({})",
                            human(*bytes)
                        ),
                    ));
                    done += bytes;
                }
            }
            Tool::MysqlDump => {
                out.push((at(40), format!("-- Connecting to {host}...")));
                for (t, bytes) in &self.tables {
                    let t_ms = dump_start + dump_ms * done / total.max(1);
                    out.push((
                        at(t_ms),
                        format!("-- Retrieving table structure for table {t}..."),
                    ));
                    out.push((at(t_ms + 5), "-- Sending SELECT query...".to_string()));
                    out.push((
                        at(t_ms + 10),
                        format!("-- Retrieving rows... ({})", human(*bytes)),
                    ));
                    done += bytes;
                }
                out.push((
                    at(total_ms.saturating_sub(120)),
                    format!("-- Disconnecting from {host}..."),
                ));
            }
            Tool::RedisRdb => {
                let file = self.output_path(backup, started);
                out.push((at(40), "sending REPLCONF capa eof".to_string()));
                out.push((at(60), "sending REPLCONF rdb-only 1".to_string()));
                out.push((
                    at(dump_start),
                    format!("SYNC sent to master, writing {total} bytes to '{file}'"),
                ));
                out.push((at(total_ms), "Transfer finished with success.".to_string()));
                return out;
            }
            Tool::RedisBgsave => {
                out.push((at(40), "Background saving started".to_string()));
                return out;
            }
        }
        let file = self.output_path(backup, started);
        let written = if file.ends_with(".gz") || file.ends_with(".zst") {
            total * 22 / 100
        } else {
            total
        };
        out.push((
            at(total_ms),
            format!(
                "backup written to {file} ({}) in {:.1}s",
                human(written),
                self.duration.as_secs_f64()
            ),
        ));
        out
    }

    fn failure_lines(&self, backup: &Backup) -> Vec<String> {
        let prog = backup.tool.program();
        let host = backup.host.as_deref().unwrap_or("localhost");
        let port = backup.port;
        match (backup.tool, &self.reach) {
            (Tool::PgDump | Tool::PgDumpAll, Reach::NoLocalServer) => vec![
                format!(
                "{prog}: error: connection to server on socket \"/var/run/postgresql/.s.PGSQL.{port}\" failed: No such file or directory"
                ),
                "\tIs the server running locally and accepting connections on that socket?".to_string(),
            ],
            (Tool::PgDump | Tool::PgDumpAll, Reach::NoSuchHost) => vec![format!(
                "{prog}: error: could not translate host name \"{host}\" to address: Name or service not known"
            )],
            (Tool::PgDump | Tool::PgDumpAll, Reach::Refused { ip } | Reach::Up { ip }) => vec![
                format!(
                    "{prog}: error: connection to server at \"{host}\" ({ip}), port {port} failed: Connection refused"
                ),
                "\tIs the server running on that host and accepting TCP/IP connections?"
                    .to_string(),
            ],
            (Tool::MysqlDump, Reach::NoLocalServer) => vec![
                "mysqldump: Got error: 2002: Can't connect to local MySQL server through socket '/var/run/mysqld/mysqld.sock' (2) when trying to connect".to_string(),
            ],
            (Tool::MysqlDump, Reach::NoSuchHost) => vec![format!(
                "mysqldump: Got error: 2005: Unknown MySQL server host '{host}' (-2) when trying to connect"
            )],
            (Tool::MysqlDump, _) => vec![format!(
                "mysqldump: Got error: 2003: Can't connect to MySQL server on '{host}' (111) when trying to connect"
            )],
            (_, Reach::NoSuchHost) => vec![format!(
                "Could not connect to Redis at {host}:{port}: Name or service not known"
            )],
            _ => vec![format!(
                "Could not connect to Redis at {host}:{port}: Connection refused"
            )],
        }
    }

    /// The dump file: as the command names it (with `$(date +FMT)` rendered
    /// at the start time), or `/backups/<db>-<YYYYmmdd-HHMMSS>.sql.gz`.
    fn output_path(&self, backup: &Backup, started: DateTime<Utc>) -> String {
        let stamp = started.format("%Y%m%d-%H%M%S").to_string();
        let Some(path) = backup
            .output
            .as_deref()
            .filter(|p| *p != "-" && !p.is_empty())
        else {
            return match backup.tool {
                Tool::RedisRdb | Tool::RedisBgsave => format!("/backups/redis-{stamp}.rdb"),
                _ => format!("/backups/{}-{stamp}.sql.gz", backup.db),
            };
        };
        render_date_substitutions(path, started)
    }
}

/// Renders `$(date +FMT)` (and `$(date)`) at `t`; other substitutions are
/// dropped, as an unknown command's empty output would be.
fn render_date_substitutions(s: &str, t: DateTime<Utc>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("$(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = after[..end].trim();
        if let Some(args) = inner.strip_prefix("date") {
            let fmt = args
                .split_whitespace()
                .find_map(|a| a.trim_matches(['\'', '"']).strip_prefix('+'))
                .unwrap_or("%a %b %e %H:%M:%S UTC %Y");
            let fmt = fmt.trim_matches(['\'', '"']);
            let mut rendered = String::new();
            use std::fmt::Write as _;
            if write!(rendered, "{}", t.format(fmt)).is_err() {
                rendered = t.format("%Y%m%d-%H%M%S").to_string();
            }
            out.push_str(&rendered);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Bytes as `123.4 MiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SimConfig;
    use crate::store::{Store, fmt_time};
    use serde_json::json;

    fn ctx() -> Ctx {
        let store = Store::new(1000);
        store
            .create(
                &resources::NAMESPACES,
                json!({"metadata": {"name": "selfmonitor"}}),
            )
            .unwrap();
        Ctx::new(store, SimConfig::default())
    }

    fn sh(script: &str) -> Value {
        json!({"name": "backup", "image": "postgres:16", "command": ["/bin/sh", "-c"], "args": [script]})
    }

    fn backup_pod(container: &Value) -> Value {
        json!({"metadata": {"name": "backup-28571234-x", "namespace": "selfmonitor", "uid": "u-1"},
               "spec": {"restartPolicy": "OnFailure", "containers": [container]}})
    }

    fn postgres(ctx: &Ctx, ready: bool) {
        ctx.store
            .create(
                &resources::SERVICES,
                json!({"metadata": {"name": "postgres", "namespace": "selfmonitor"},
                       "spec": {"clusterIP": "10.96.12.4", "selector": {"app": "postgres"},
                                "ports": [{"port": 5432}]}}),
            )
            .unwrap();
        ctx.store
            .create(
                &resources::PODS,
                json!({"metadata": {"name": "postgres-0", "namespace": "selfmonitor",
                                    "labels": {"app": "postgres"}},
                       "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]},
                       "status": {"phase": "Running", "podIP": "10.244.1.7", "conditions": [
                           {"type": "Ready", "status": if ready { "True" } else { "False" }}]}}),
            )
            .unwrap();
    }

    #[test]
    fn reads_targets_from_real_looking_backup_commands() {
        let b = Backup::of(&sh(
            "set -e\npg_dump -h postgres -U app -d selfmonitor | gzip > /backups/selfmonitor-$(date +%Y%m%d-%H%M%S).sql.gz",
        ))
        .unwrap();
        assert_eq!(b.tool, Tool::PgDump);
        assert_eq!(b.host.as_deref(), Some("postgres"));
        assert_eq!((b.port, b.db.as_str()), (5432, "selfmonitor"));
        assert_eq!(
            b.output.as_deref(),
            Some("/backups/selfmonitor-$(date +%Y%m%d-%H%M%S).sql.gz")
        );

        let url = Backup::of(&json!({"name": "b", "command": ["pg_dump",
            "postgresql://app:s3cret@db.shop.svc.cluster.local:6543/orders?sslmode=disable", "-Fc", "-f", "/out/x.dump"]}))
        .unwrap();
        assert_eq!(url.host.as_deref(), Some("db.shop.svc.cluster.local"));
        assert_eq!((url.port, url.db.as_str()), (6543, "orders"));
        assert_eq!(url.output.as_deref(), Some("/out/x.dump"));

        let env = Backup::of(&json!({"name": "b", "command": ["bash", "-euo", "pipefail", "-c",
            "export STAMP=x; PGPASSWORD=$PASS pg_dump --host=${DB_HOST} --dbname \"$DB\" > /b/$DB.sql"],
            "env": [{"name": "DB_HOST", "value": "pg.data"}, {"name": "DB", "value": "billing"}]}))
        .unwrap();
        assert_eq!(env.host.as_deref(), Some("pg.data"));
        assert_eq!(env.db, "billing");
        assert_eq!(env.output.as_deref(), Some("/b/billing.sql"));

        let pghost = Backup::of(
            &json!({"name": "b", "command": ["pg_dumpall", "-U", "postgres"],
            "env": [{"name": "PGHOST", "value": "postgres"}]}),
        )
        .unwrap();
        assert_eq!(pghost.tool, Tool::PgDumpAll);
        assert_eq!(pghost.host.as_deref(), Some("postgres"));

        let my = Backup::of(&sh(
            "mysqldump -h mysql -P 3307 -uroot -p\"$MYSQL_ROOT_PASSWORD\" --single-transaction shop 2>/dev/null | gzip > /backups/shop.sql.gz",
        ))
        .unwrap();
        assert_eq!(my.tool, Tool::MysqlDump);
        assert_eq!(my.host.as_deref(), Some("mysql"));
        assert_eq!((my.port, my.db.as_str()), (3307, "shop"));
        assert_eq!(my.output.as_deref(), Some("/backups/shop.sql.gz"));

        let redis = Backup::of(&sh(
            "redis-cli -h redis-master -p 6380 --rdb /data/dump.rdb && echo ok",
        ))
        .unwrap();
        assert_eq!(redis.tool, Tool::RedisRdb);
        assert_eq!(
            (redis.host.as_deref(), redis.port),
            (Some("redis-master"), 6380)
        );
        let bg =
            Backup::of(&json!({"name": "b", "command": ["redis-cli", "-h", "cache", "BGSAVE"]}))
                .unwrap();
        assert_eq!(bg.tool, Tool::RedisBgsave);

        assert!(Backup::of(&sh("redis-cli -h redis PING")).is_none());
        assert!(Backup::of(&sh("echo 'pg_dump -h x' && sleep 5")).is_none());
        assert!(Backup::of(&json!({"name": "web", "image": "nginx"})).is_none());
    }

    #[test]
    fn backup_succeeds_only_with_a_ready_database_pod() {
        let c =
            sh("pg_dump -h postgres -U app -d selfmonitor | gzip > /backups/selfmonitor.sql.gz");
        let pod = backup_pod(&c);

        let ctx = ctx();
        let ContainerFate::Exit {
            code,
            reason,
            after,
        } = outcome(&ctx, &pod, &c)
        else {
            panic!("a backup must exit");
        };
        assert_eq!((code, reason), (1, "Error"));
        assert!(after <= Duration::from_millis(1300));

        postgres(&ctx, false);
        assert!(matches!(
            outcome(&ctx, &pod, &c),
            ContainerFate::Exit { code: 1, .. }
        ));

        let ctx = self::ctx();
        postgres(&ctx, true);
        let ContainerFate::Exit {
            code,
            reason,
            after,
        } = outcome(&ctx, &pod, &c)
        else {
            panic!("a backup must exit");
        };
        assert_eq!((code, reason), (0, "Completed"));
        assert!(after > Duration::from_millis(900));
        // The FQDN and a StatefulSet pod name resolve to the same database.
        let fqdn = sh("pg_dump -h postgres.selfmonitor.svc.cluster.local selfmonitor");
        assert!(matches!(
            outcome(&ctx, &pod, &fqdn),
            ContainerFate::Exit { code: 0, .. }
        ));
        let sts = sh("pg_dump -h postgres-0.postgres selfmonitor");
        assert!(matches!(
            outcome(&ctx, &pod, &sts),
            ContainerFate::Exit { code: 0, .. }
        ));
        let other = sh("pg_dump -h postgres-1.postgres selfmonitor");
        assert!(matches!(
            outcome(&ctx, &pod, &other),
            ContainerFate::Exit { code: 1, .. }
        ));
    }

    #[test]
    fn batch_pods_exit_and_services_run_forever() {
        let ctx = ctx();
        let c = json!({"name": "work", "image": "busybox"});
        let svc = json!({"metadata": {"uid": "a"}, "spec": {"containers": [c]}});
        assert_eq!(outcome(&ctx, &svc, &c), ContainerFate::RunForever);

        let batch = json!({"metadata": {"uid": "a"}, "spec": {"restartPolicy": "Never"}});
        let ContainerFate::Exit { after, code, .. } = outcome(&ctx, &batch, &c) else {
            panic!("batch containers exit");
        };
        assert_eq!(code, 0);
        assert!((2000..=4001).contains(&(after.as_millis() as u64)));
        assert_eq!(outcome(&ctx, &batch, &c), outcome(&ctx, &batch, &c));

        let tuned = json!({"metadata": {"uid": "a", "annotations": {
            RUN_SECONDS_ANNOTATION: "12", EXIT_CODE_ANNOTATION: "3"}},
            "spec": {"restartPolicy": "OnFailure"}});
        assert_eq!(
            outcome(&ctx, &tuned, &c),
            ContainerFate::Exit {
                after: Duration::from_secs(12),
                code: 3,
                reason: "Error"
            }
        );
    }

    #[test]
    fn success_logs_list_tables_then_the_written_file() {
        let ctx = ctx();
        postgres(&ctx, true);
        let c = sh(
            "pg_dump -h postgres -U app -d selfmonitor | gzip > /backups/selfmonitor-$(date +%Y%m%d-%H%M%S).sql.gz",
        );
        let pod = backup_pod(&c);
        let started = parse_time("2024-05-01T02:00:00Z").unwrap();
        let far = started + chrono::Duration::hours(1);
        let lines = log_lines(&ctx, &pod, &c, started, far).unwrap();
        assert_eq!(lines, log_lines(&ctx, &pod, &c, started, far).unwrap());
        let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
        let tables = text
            .iter()
            .filter(|l| l.starts_with("pg_dump: dumping contents of table \"public."))
            .count();
        assert!((5..=10).contains(&tables), "{text:?}");
        let last = text.last().unwrap();
        assert!(
            last.starts_with("backup written to /backups/selfmonitor-20240501-020000.sql.gz ("),
            "{last}"
        );
        assert!(last.contains(" MiB) in "), "{last}");
        assert!(lines.windows(2).all(|w| w[0].0 <= w[1].0));
        let ContainerFate::Exit { after, .. } = outcome(&ctx, &pod, &c) else {
            panic!("exits");
        };
        assert_eq!(
            lines.last().unwrap().0,
            started + chrono::Duration::from_std(after).unwrap()
        );

        // Only what has been written by `until`.
        let early = log_lines(
            &ctx,
            &pod,
            &c,
            started,
            started + chrono::Duration::milliseconds(100),
        )
        .unwrap();
        assert!(!early.is_empty() && early.len() < lines.len());
        assert!(
            early
                .iter()
                .all(|(t, _)| *t <= started + chrono::Duration::milliseconds(100))
        );

        let web = json!({"name": "web", "image": "nginx"});
        assert!(log_lines(&ctx, &pod, &web, started, far).is_none());
    }

    #[test]
    fn failure_logs_say_why_the_connection_failed() {
        let ctx = ctx();
        postgres(&ctx, false);
        let c =
            sh("pg_dump -h postgres.selfmonitor.svc.cluster.local -U app selfmonitor > /b/x.sql");
        let pod = backup_pod(&c);
        let started = Utc::now();
        let lines = log_lines(
            &ctx,
            &pod,
            &c,
            started,
            started + chrono::Duration::seconds(5),
        )
        .unwrap();
        let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            text,
            vec![
                "pg_dump: error: connection to server at \"postgres.selfmonitor.svc.cluster.local\" (10.96.12.4), port 5432 failed: Connection refused",
                "\tIs the server running on that host and accepting TCP/IP connections?",
            ]
        );

        let my = sh("mysqldump -h mysql shop > /b/shop.sql");
        let lines = log_lines(
            &ctx,
            &pod,
            &my,
            started,
            started + chrono::Duration::seconds(5),
        )
        .unwrap();
        assert_eq!(
            lines[0].1,
            "mysqldump: Got error: 2005: Unknown MySQL server host 'mysql' (-2) when trying to connect"
        );

        // A finished run keeps the story it had, even if the database came back.
        let mut done = pod.clone();
        done["status"] = json!({"containerStatuses": [{"name": "backup", "state": {"terminated": {
            "exitCode": 0, "startedAt": fmt_time(started)}}}]});
        let lines = log_lines(
            &ctx,
            &done,
            &c,
            started,
            started + chrono::Duration::hours(1),
        )
        .unwrap();
        assert!(
            lines
                .last()
                .unwrap()
                .1
                .starts_with("backup written to /b/x.sql (")
        );
    }
}
