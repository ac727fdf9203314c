//! `kubedeck backup`: backup CronJobs from the command line. `list` prints
//! each one's freshness and fails when any is stale, for a monitoring
//! check; `run` creates a Job from the CronJob and, with `--wait`, follows
//! it to the end and fails unless it succeeds.

use std::time::Duration;

use anyhow::{anyhow, bail};
use chrono::Utc;

use super::session::{Session, confirm};
use crate::cli::ConsoleArgs;
use kubedeck_core::actions::ObjectRef;
use kubedeck_core::ops::backups::{self, BackupInfo, FollowEvent, Freshness, JobState};
use kubedeck_kube::duration;

#[derive(Debug, clap::Subcommand)]
pub enum BackupCommand {
    /// Print every backup CronJob's schedule and freshness; exits non-zero
    /// if any is stale.
    List,
    /// Run a backup now: a Job from the CronJob, as `kubectl create job
    /// --from=cronjob/NAME` does.
    Run(RunArgs),
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// cronjob/NAME.
    #[arg(value_name = "cronjob/NAME")]
    pub target: String,
    /// Follow the Job to its end (pods, logs, result); the exit code is 0
    /// only if it succeeds.
    #[arg(long)]
    pub wait: bool,
    /// How long `--wait` waits.
    #[arg(long, default_value = "10m", value_name = "D", value_parser = parse_duration)]
    pub timeout: Duration,
    /// In a protected context, the CronJob's name, to confirm without a prompt.
    #[arg(long, value_name = "NAME")]
    pub confirm_name: Option<String>,
}

pub async fn run(command: BackupCommand, console: ConsoleArgs) -> anyhow::Result<()> {
    match command {
        BackupCommand::List => list(console).await,
        BackupCommand::Run(args) => run_now(args, console).await,
    }
}

async fn list(console: ConsoleArgs) -> anyhow::Result<()> {
    let session = Session::open(&console).await?;
    let namespace = (!console.all_namespaces).then(|| session.namespace(&console));
    let patterns = &session.config.backups.patterns;
    let found = backups::discover(&session.client, namespace.as_deref(), patterns).await?;
    if found.is_empty() {
        println!(
            "No backup CronJobs {} (names containing {}, or label {}=true).",
            namespace.map_or_else(
                || "in any namespace".to_string(),
                |n| format!("in namespace {n}")
            ),
            patterns.join(" or "),
            backups::BACKUP_LABEL
        );
        return Ok(());
    }
    print!("{}", table(&found));
    let stale: Vec<String> = found
        .iter()
        .filter(|b| b.freshness == Freshness::Stale)
        .map(|b| format!("{}/{}", b.namespace, b.name))
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        bail!("{} stale: {}", plural(stale.len()), stale.join(", "))
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 backup is".to_string()
    } else {
        format!("{n} backups are")
    }
}

/// The backups as an aligned table.
pub fn table(found: &[BackupInfo]) -> String {
    let now = Utc::now();
    let header = [
        "NAMESPACE",
        "NAME",
        "SCHEDULE",
        "CRON",
        "SUSPENDED",
        "LAST SUCCESS",
        "FRESHNESS",
        "LAST JOB",
        "DURATION",
    ];
    let rows: Vec<[String; 9]> = found
        .iter()
        .map(|b| {
            let last = b.last_job();
            [
                b.namespace.clone(),
                b.name.clone(),
                b.words.clone(),
                b.schedule.clone(),
                if b.suspended { "yes" } else { "no" }.to_string(),
                b.last_success
                    .map_or_else(|| "never".to_string(), |t| backups::ago(t, now)),
                b.freshness.word().to_string(),
                last.map_or_else(
                    || "-".to_string(),
                    |j| format!("{} {}", j.name, j.state.word()),
                ),
                last.and_then(|j| j.duration())
                    .map_or_else(|| "-".to_string(), duration::human),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("   ");
        s.truncate(s.trim_end().len());
        s + "\n"
    };
    let mut out = line(&header.map(str::to_string));
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

async fn run_now(args: RunArgs, console: ConsoleArgs) -> anyhow::Result<()> {
    let session = Session::open(&console).await?;
    let namespace = session.namespace(&console);
    let name = match args.target.split_once('/') {
        Some((kind, name))
            if matches!(
                kind.to_ascii_lowercase().as_str(),
                "cronjob" | "cronjobs" | "cj" | "cronjob.batch" | "cronjobs.batch"
            ) && !name.is_empty() =>
        {
            name.to_string()
        }
        _ => bail!("{:?}: expected cronjob/NAME", args.target),
    };
    session
        .check_writable(&namespace, &format!("cronjob/{name}"), "trigger-cronjob")
        .await?;
    // Running a backup changes no existing object, so only a protected
    // context asks first.
    let typed = if session.config.is_protected(&session.context) {
        confirm(
            &session,
            &name,
            "run this backup",
            false,
            args.confirm_name.as_deref(),
        )?
    } else {
        None
    };
    let cronjob = ObjectRef::new(&namespace, &name);
    let (job, outcome) = backups::trigger(
        &session.client,
        &session.executor,
        &session.config,
        &cronjob,
        typed.as_deref(),
    )
    .await?;
    println!("{}", outcome.message);
    if let Some(e) = &outcome.audit_error {
        eprintln!("kubedeck: {e}");
    }
    if !args.wait {
        println!(
            "follow it with: kubedeck backup run … --wait, or kubectl logs -f job/{job} -n {namespace}"
        );
        return Ok(());
    }
    let start = std::time::Instant::now();
    let stamp = |start: std::time::Instant| duration::human(start.elapsed());
    let mut print = |e: FollowEvent| match e {
        FollowEvent::Pod { pod, phase } => println!("[{:>7}] pod/{pod} {phase}", stamp(start)),
        FollowEvent::Log { pod, line } => println!("[{:>7}] {pod}: {line}", stamp(start)),
    };
    let result =
        backups::follow(&session.client, &namespace, &job, args.timeout, &mut print).await?;
    let elapsed = duration::human(result.elapsed);
    match result.state {
        Some(JobState::Succeeded) => {
            println!("job/{job} succeeded in {elapsed}");
            Ok(())
        }
        state => {
            match state {
                Some(_) => println!(
                    "job/{job} failed after {elapsed}: {}",
                    result.message.as_deref().unwrap_or("no reason given")
                ),
                None => println!(
                    "job/{job} still running after {}",
                    duration::human(args.timeout)
                ),
            }
            if !result.last_lines.is_empty() {
                println!("Last log lines:");
                for l in &result.last_lines {
                    println!("  {l}");
                }
            }
            if !result.events.is_empty() {
                println!("Events:");
                for e in &result.events {
                    println!("  {e}");
                }
            }
            Err(anyhow!(if state.is_some() {
                format!("backup job/{job} failed")
            } else {
                format!(
                    "backup job/{job} did not finish within {}",
                    duration::human(args.timeout)
                )
            }))
        }
    }
}
