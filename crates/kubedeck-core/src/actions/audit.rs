//! The audit log: one JSON object per line, appended and fsynced per record,
//! so that a crash loses at most the record being written. Reading never
//! fails on a bad line: it is reported with its number and skipped.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::command::Command;
use super::error::ActionError;

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum AuditResult {
    Ok,
    /// Refused by kubedeck itself (read-only, wrong context).
    Refused {
        reason: String,
    },
    /// Refused by the API server's authorization (403).
    Denied {
        message: String,
    },
    Failed {
        message: String,
    },
    /// The change was sent, its answer lost, and it could not be read
    /// back: it may or may not have been made.
    Unknown {
        message: String,
    },
}

impl AuditResult {
    /// How an action, a shell or a reveal ended, as the audit log says it.
    pub fn of<T>(result: &Result<T, ActionError>) -> AuditResult {
        match result {
            Ok(_) => AuditResult::Ok,
            Err(ActionError::ReadOnly { .. }) => AuditResult::Refused {
                reason: "read-only".into(),
            },
            Err(ActionError::WrongContext { .. }) => AuditResult::Refused {
                reason: "wrong context".into(),
            },
            Err(ActionError::Blocked(reason)) => AuditResult::Refused {
                reason: reason.clone(),
            },
            Err(e @ ActionError::Forbidden { .. }) => AuditResult::Denied {
                message: e.to_string(),
            },
            Err(e @ ActionError::OutcomeUnknown { .. }) => AuditResult::Unknown {
                message: e.to_string(),
            },
            Err(e) => AuditResult::Failed {
                message: e.to_string(),
            },
        }
    }
}

impl std::fmt::Display for AuditResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditResult::Ok => write!(f, "ok"),
            AuditResult::Refused { reason } => write!(f, "refused({reason})"),
            AuditResult::Denied { .. } => write!(f, "denied(403)"),
            AuditResult::Failed { message } => write!(f, "failed({message})"),
            AuditResult::Unknown { message } => write!(f, "unknown({message})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub time: DateTime<Utc>,
    pub user: String,
    pub context: String,
    /// Empty for cluster-scoped objects (nodes).
    #[serde(default)]
    pub namespace: String,
    pub object: String,
    pub action: String,
    /// The whole command, so that the record can be replayed or inspected.
    pub parameters: serde_json::Value,
    pub before: String,
    pub after: String,
    pub result: AuditResult,
    pub duration_ms: u64,
}

impl Record {
    pub fn new(
        user: &str,
        context: &str,
        command: &Command,
        result: AuditResult,
        duration: Duration,
    ) -> Record {
        let (before, after) = command.change();
        Record {
            time: Utc::now(),
            user: user.to_string(),
            context: context.to_string(),
            namespace: command.namespace().unwrap_or_default().to_string(),
            object: command.object(),
            action: command.action().to_string(),
            parameters: serde_json::to_value(command).unwrap_or(serde_json::Value::Null),
            before,
            after,
            result,
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// A line of the log that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based, as editors count.
    pub line: usize,
    pub error: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} is corrupted and was skipped: {}",
            self.line, self.error
        )
    }
}

/// What reading the log found.
#[derive(Debug, Default)]
pub struct Contents {
    pub records: Vec<Record>,
    pub bad_lines: Vec<BadLine>,
}

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    // Serialises this process's appends so that records never interleave.
    lock: Arc<Mutex<()>>,
}

impl AuditLog {
    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog {
            path,
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// The log in the user's XDG data folder; None without a home directory.
    pub fn discover() -> Option<AuditLog> {
        crate::config::Paths::discover().map(|p| AuditLog::new(p.audit_log()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the log for appending as [`append`](AuditLog::append) does,
    /// writing nothing: an error means a record could not be written now.
    pub fn check_writable(&self) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.open().map(drop)
    }

    /// Opens (creating) the log for appending, the user's alone: a log
    /// left readable by others is tightened to 0600, and said so.
    fn open(&self) -> std::io::Result<std::fs::File> {
        if let Some(dir) = self.path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true).read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Records name clusters and objects: keep them to the user.
            options.mode(0o600);
        }
        let file = options.open(&self.path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata()?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
                tracing::warn!(
                    "the audit log {} was readable by others (mode {mode:o}); it is now 0600",
                    self.path.display()
                );
            }
        }
        Ok(file)
    }

    /// Appends one record and fsyncs it.
    pub fn append(&self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut file = self.open()?;
        // A crash mid-write leaves a line without its newline; start on a
        // fresh line so that the next record is not glued to the debris.
        let len = file.metadata()?.len();
        if len > 0 {
            file.seek(SeekFrom::Start(len - 1))?;
            let mut last = [0u8; 1];
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                line.insert(0, '\n');
            }
        }
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }

    /// Reads every record; a missing file is an empty log.
    pub fn read(&self) -> std::io::Result<Contents> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(parse(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Contents::default()),
            Err(e) => Err(e),
        }
    }
}

/// Parses the log's bytes, skipping (and reporting) lines that are not
/// records: invalid UTF-8, truncated JSON, or JSON of another shape.
pub fn parse(bytes: &[u8]) -> Contents {
    let mut out = Contents::default();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = i + 1;
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t.trim(),
            Err(e) => {
                out.bad_lines.push(BadLine {
                    line,
                    error: format!("not UTF-8 ({e})"),
                });
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(text) {
            Ok(r) => out.records.push(r),
            Err(e) => out.bad_lines.push(BadLine {
                line,
                error: e.to_string(),
            }),
        }
    }
    out
}

/// Which records `kubedeck audit` shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<DateTime<Utc>>,
    pub namespace: Option<String>,
}

impl Filter {
    pub fn matches(&self, r: &Record) -> bool {
        self.since.is_none_or(|s| r.time >= s)
            && self.namespace.as_deref().is_none_or(|n| r.namespace == n)
    }
}

/// `--since`: a duration back from `now` (`90s`, `15m`, `1h`, `2d`, `1w`) or
/// an RFC 3339 time.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let bad =
        || format!("--since {text:?}: expected a duration like 30m, 1h, 2d or an RFC 3339 time");
    let unit_at = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(unit_at);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    n.checked_mul(seconds)
        .and_then(chrono::TimeDelta::try_seconds)
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::command::WorkloadRef;

    fn record(ns: &str) -> Record {
        Record::new(
            "alice",
            "kind-dev",
            &Command::Scale {
                target: WorkloadRef::deployment(ns, "web"),
                from: 2,
                to: 4,
            },
            AuditResult::Ok,
            Duration::from_millis(42),
        )
    }

    #[test]
    fn records_carry_the_command_and_its_change() {
        let r = record("demo");
        assert_eq!(r.object, "deployment/web");
        assert_eq!(r.action, "scale");
        assert_eq!(
            (r.before.as_str(), r.after.as_str()),
            ("replicas 2", "replicas 4")
        );
        assert_eq!(r.parameters["to"], 4);
        assert_eq!(r.duration_ms, 42);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["result"]["status"], "ok");
    }

    #[test]
    fn bad_lines_are_reported_and_skipped() {
        let good = serde_json::to_string(&record("demo")).unwrap();
        let text = format!(
            "{good}\nnot json\n\n{good}\n\u{0}\n{}",
            &good[..good.len() / 2]
        );
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"\n\xff\xfe\n");
        let c = parse(&bytes);
        assert_eq!(c.records.len(), 2);
        let lines: Vec<usize> = c.bad_lines.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![2, 5, 6, 7]);
        assert!(c.bad_lines[3].error.contains("UTF-8"));
    }

    #[test]
    fn append_after_a_truncated_line_starts_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("sub").join("audit.jsonl"));
        log.append(&record("demo")).unwrap();
        let good = serde_json::to_string(&record("demo")).unwrap();
        let mut f = OpenOptions::new().append(true).open(log.path()).unwrap();
        f.write_all(&good.as_bytes()[..20]).unwrap();
        drop(f);
        log.append(&record("other")).unwrap();
        let c = log.read().unwrap();
        assert_eq!(c.records.len(), 2);
        assert_eq!(c.records[1].namespace, "other");
        assert_eq!(c.bad_lines.len(), 1);
        assert_eq!(c.bad_lines[0].line, 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_log_readable_by_others_is_tightened_to_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let log = AuditLog::new(path.clone());
        log.append(&record("demo")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let fresh = AuditLog::new(dir.path().join("new.jsonl"));
        fresh.check_writable().unwrap();
        let mode = std::fs::metadata(fresh.path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_log_that_cannot_be_opened_fails_the_check() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: unwritable even for root.
        let blocked = AuditLog::new(dir.path().to_path_buf());
        assert!(blocked.check_writable().is_err());
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let under_a_file = AuditLog::new(file.join("audit.jsonl"));
        assert!(under_a_file.check_writable().is_err());
    }

    #[test]
    fn since_accepts_durations_and_times() {
        let now = DateTime::parse_from_rfc3339("2025-01-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("1h", now).unwrap().to_rfc3339(),
            "2025-01-02T09:00:00+00:00"
        );
        assert_eq!(
            parse_since("2025-01-01T00:00:00+01:00", now)
                .unwrap()
                .to_rfc3339(),
            "2024-12-31T23:00:00+00:00"
        );
        assert!(parse_since("1y", now).is_err());
        assert!(parse_since("h", now).is_err());
        assert!(parse_since("99999999999999999d", now).is_err());
    }

    #[test]
    fn filter_by_time_and_namespace() {
        let r = record("demo");
        let f = Filter {
            since: Some(r.time - chrono::TimeDelta::seconds(1)),
            namespace: Some("demo".into()),
        };
        assert!(f.matches(&r));
        assert!(
            !Filter {
                namespace: Some("prod".into()),
                ..Filter::default()
            }
            .matches(&r)
        );
        assert!(
            !Filter {
                since: Some(r.time + chrono::TimeDelta::seconds(1)),
                ..Filter::default()
            }
            .matches(&r)
        );
    }
}
