//! `kubedeck audit`: prints the audit log, filtered by time and namespace.
//! Corrupted lines are reported on stderr and skipped.

use std::io::Write;

use anyhow::{Context, anyhow};
use chrono::{Local, Utc};

use crate::cli::AuditArgs;
use kubedeck_core::actions::audit::{self, AuditLog, Filter, Record};

pub fn run(args: &AuditArgs) -> anyhow::Result<()> {
    let log = match &args.file {
        Some(path) => AuditLog::new(path.clone()),
        None => AuditLog::discover()
            .ok_or_else(|| anyhow!("no home directory: cannot find the audit log; pass --file"))?,
    };
    let since = args
        .since
        .as_deref()
        .map(|s| audit::parse_since(s, Utc::now()))
        .transpose()
        .map_err(|e| anyhow!(e))?;
    let filter = Filter {
        since,
        namespace: args.namespace.clone(),
    };
    let contents = log
        .read()
        .with_context(|| format!("cannot read the audit log {}", log.path().display()))?;
    for bad in &contents.bad_lines {
        say_err!("kubedeck: {}: {bad}", log.path().display());
    }
    let records: Vec<&Record> = contents
        .records
        .iter()
        .filter(|r| filter.matches(r))
        .collect();
    let mut out = std::io::stdout().lock();
    let text = if args.json {
        records
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .map(|l| l + "\n")
            .collect()
    } else {
        kubedeck_core::terminal::safe(&table(&records)).into_owned()
    };
    // A closed pipe (`| head`) is not an error worth reporting.
    match out.write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

/// Records as an aligned table, oldest first, times in local time.
pub fn table(records: &[&Record]) -> String {
    const HEADER: [&str; 9] = [
        "TIME",
        "USER",
        "CONTEXT",
        "NAMESPACE",
        "OBJECT",
        "ACTION",
        "CHANGE",
        "RESULT",
        "DURATION",
    ];
    let rows: Vec<[String; 9]> = records
        .iter()
        .map(|r| {
            [
                r.time
                    .with_timezone(&Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                r.user.clone(),
                r.context.clone(),
                if r.namespace.is_empty() {
                    "-".into()
                } else {
                    r.namespace.clone()
                },
                r.object.clone(),
                r.action.clone(),
                // Refusals changed nothing: no arrow between two blanks.
                if r.before.is_empty() && r.after.is_empty() {
                    "-".to_string()
                } else {
                    format!("{} → {}", r.before, r.after)
                },
                one_line(&r.result.to_string()),
                format!("{}ms", r.duration_ms),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            out.push_str(cell);
            if i < last {
                let pad = w - cell.chars().count() + 3;
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(HEADER.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Messages from the API can span lines; a table row must not.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubedeck_core::actions::audit::AuditResult;
    use kubedeck_core::actions::command::{Command, ObjectRef};
    use std::time::Duration;

    #[test]
    fn table_aligns_columns_and_keeps_rows_on_one_line() {
        let ok = Record::new(
            "alice",
            "dev",
            &Command::Cordon {
                node: "node-1".into(),
            },
            AuditResult::Ok,
            Duration::from_millis(7),
        );
        let failed = Record::new(
            "bob",
            "prod",
            &Command::EvictPod {
                pod: ObjectRef::new("demo", "web-1"),
            },
            AuditResult::Failed {
                message: "Cannot evict\npod".into(),
            },
            Duration::from_millis(12),
        );
        let text = table(&[&ok, &failed]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = |l: &str, h: &str| l.find(h);
        let object_at = col(lines[0], "OBJECT").unwrap();
        assert_eq!(col(lines[1], "node/node-1"), Some(object_at));
        assert_eq!(col(lines[2], "pod/web-1"), Some(object_at));
        assert!(lines[1].contains("schedulable → unschedulable"));
        assert!(lines[2].contains("failed(Cannot evict pod)"));
        assert!(
            lines[1].contains(" - "),
            "cluster-scoped rows show - as namespace"
        );
    }
}
