//! The record of a run: a Markdown incident log in the XDG data dir, and a
//! summary record (with the whole timeline) in the audit log, next to the
//! records of the actions the run took.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::json;

use super::runner::{Run, RunOutcome};
use crate::actions::{AuditLog, AuditResult, Record};
use kubedeck_kube::duration::human;

/// The incident log, as Markdown an engineer can paste into a review.
pub fn markdown(run: &Run, context: &str) -> String {
    let plan = &run.plan;
    let mut s = format!("# Runbook: {}\n\n", plan.title);
    if !plan.description.trim().is_empty() {
        s.push_str(plan.description.trim());
        s.push_str("\n\n");
    }
    let outcome = run
        .outcome()
        .map_or_else(|| "unfinished".to_string(), ToString::to_string);
    let finished = run.finished.unwrap_or_else(Utc::now);
    let took = (finished - run.started).to_std().unwrap_or(Duration::ZERO);
    s.push_str(&format!(
        "- runbook: `{}`\n- context: `{context}`\n- operator: `{}`\n- started: {}\n- finished: {} ({})\n- outcome: **{outcome}**\n",
        plan.name,
        run.who,
        run.started.to_rfc3339_opts(SecondsFormat::Secs, true),
        finished.to_rfc3339_opts(SecondsFormat::Secs, true),
        human(took),
    ));
    if !plan.vars.is_empty() {
        s.push_str("- variables:");
        for (k, v) in &plan.vars {
            s.push_str(&format!(" `{k}={v}`"));
        }
        s.push('\n');
    }
    if !run.inconclusive().is_empty() {
        s.push_str("\n## Inconclusive\n\nThese could not be evaluated, so the run cannot say they held:\n\n");
        for x in run.inconclusive() {
            let name = plan.steps.get(x.index).map_or("", |st| st.name.as_str());
            s.push_str(&format!("- {name} ({}): {}\n", x.step, x.reason));
        }
    }
    s.push_str("\n## Timeline\n\n| time (UTC) | step | kind | result | took | who | detail |\n|---|---|---|---|---|---|---|\n");
    for e in &run.timeline {
        let result = if e.inconclusive {
            "inconclusive".to_string()
        } else {
            e.result.to_string()
        };
        s.push_str(&format!(
            "| {} | {} | {} | {result} | {} | {} | {} |\n",
            e.time.format("%H:%M:%S%.3f"),
            cell(&format!("{} ({})", e.name, e.step)),
            e.kind,
            human(Duration::from_millis(e.duration_ms)),
            cell(&e.who),
            cell(&e.detail),
        ));
    }
    s.push_str("\n## Steps\n");
    for (i, (step, state)) in plan.steps.iter().zip(&run.states).enumerate() {
        s.push_str(&format!(
            "\n### {} — {}\n\n`{}` · {}\n",
            step.id,
            step.name,
            step.kind.word(),
            run.result_word(i)
        ));
        if !state.output.is_empty() {
            s.push_str("\n```\n");
            for line in &state.output {
                s.push_str(&line.replace("```", "'''"));
                s.push('\n');
            }
            s.push_str("```\n");
        }
    }
    s
}

/// A table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Writes the incident log as `<dir>/<runbook>-<time>.md`.
pub fn save(run: &Run, context: &str, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let stamp = run.started.format("%Y%m%dT%H%M%S%.3fZ");
    let path = dir.join(format!("{}-{stamp}.md", run.plan.name));
    // Step output quotes the cluster; the log is read with `cat` too.
    let text = markdown(run, context);
    crate::private_file::write(&path, crate::terminal::safe(&text).as_bytes())?;
    Ok(path)
}

/// The run as one audit record: action `runbook`, the timeline in its
/// parameters. An incomplete run is not `ok`: it is recorded as failed,
/// with the reason.
pub(crate) fn audit_record(run: &Run, context: &str) -> Record {
    let plan = &run.plan;
    let finished = run.finished.unwrap_or_else(Utc::now);
    let result = match run.outcome() {
        Some(RunOutcome::Succeeded) => AuditResult::Ok,
        Some(o @ RunOutcome::Aborted { .. }) => AuditResult::Refused {
            reason: o.to_string(),
        },
        Some(o) => AuditResult::Failed {
            message: o.to_string(),
        },
        None => AuditResult::Failed {
            message: "unfinished".into(),
        },
    };
    Record {
        time: finished,
        user: run.who.clone(),
        context: context.to_string(),
        namespace: plan.vars.get("namespace").cloned().unwrap_or_default(),
        object: format!("runbook/{}", plan.name),
        action: "runbook".into(),
        parameters: json!({
            "action": "runbook",
            "title": plan.title,
            "variables": plan.vars,
            "outcome": run.outcome(),
            "inconclusive": run.inconclusive(),
            "timeline": run.timeline,
        }),
        before: String::new(),
        after: run
            .outcome()
            .map_or_else(|| "unfinished".to_string(), ToString::to_string),
        result,
        duration_ms: u64::try_from((finished - run.started).num_milliseconds().max(0)).unwrap_or(0),
    }
}

pub fn append_audit(run: &Run, context: &str, log: &AuditLog) -> std::io::Result<()> {
    log.append(&audit_record(run, context))
}
