//! One run of a backup container, decided up front from the cluster seed:
//! how long it takes, what it dumps, its exit code and its log.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::command::{Backup, Tool};
use super::reach::{Reach, reach};
use super::{EXIT_CODE_ANNOTATION, annotation};
use crate::controllers::Ctx;
use crate::hash::fnv64_parts;
use crate::store::meta_str;

/// One run of a backup container, fully decided up front.
pub(super) struct BackupRun {
    reach: Reach,
    /// How long the process runs.
    pub(super) duration: Duration,
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
    pub(super) fn plan(
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
        let db_hash = fnv64_parts(&[&seed, ns, host, &backup.db], 0xff);
        // 24..~900 MiB, skewed toward the small end, fixed per database.
        let total_mib = 24 + (db_hash % 31).pow(2);
        let tables = Self::tables(&backup.db, db_hash, total_mib * 1024 * 1024);
        let code_override = known_code
            .or_else(|| annotation(pod, EXIT_CODE_ANNOTATION).and_then(|s| s.trim().parse().ok()));
        let jitter = fnv64_parts(
            &[
                &seed,
                meta_str(pod, "uid"),
                container["name"].as_str().unwrap_or(""),
            ],
            0xff,
        );
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

    pub(super) fn code(&self) -> i32 {
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
            let t = TABLE_POOL
                [(fnv64_parts(&[db, &k.to_string()], 0xff) % TABLE_POOL.len() as u64) as usize];
            if !picked.contains(&t) {
                picked.push(t);
            }
            k += 1;
        }
        picked.sort_unstable();
        let weights: Vec<u64> = picked
            .iter()
            .map(|t| 1 + fnv64_parts(&[db, t], 0xff) % 100)
            .collect();
        let sum: u64 = weights.iter().sum();
        picked
            .iter()
            .zip(&weights)
            .map(|(t, w)| (t.to_string(), total * w / sum))
            .collect()
    }

    pub(super) fn lines(
        &self,
        backup: &Backup,
        started: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, String)> {
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
