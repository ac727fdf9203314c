//! Backup commands as read from a container's command and args: which tool
//! (`pg_dump`, `pg_dumpall`, `mysqldump`, `redis-cli`), which database on
//! which host, and where the dump goes.

use std::collections::HashMap;

use serde_json::Value;

use super::shell::{SimpleCommand, assignment, expand, shell_script, split_commands};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tool {
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

    pub(super) fn program(self) -> &'static str {
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
pub(super) struct Backup {
    pub(super) tool: Tool,
    /// None: the default, a local socket.
    pub(super) host: Option<String>,
    pub(super) port: u16,
    pub(super) db: String,
    /// Where the dump goes (`-f`, `--result-file`, `--rdb`, a `>` redirect).
    pub(super) output: Option<String>,
}

impl Backup {
    pub(super) fn of(container: &Value) -> Option<Backup> {
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
