//! `kubedeck backup`: backup CronJobs from the command line. `list` prints
//! each one's freshness and fails when any is stale, for a monitoring
//! check; `run` creates a Job from the CronJob and, with `--wait`, follows
//! it to the end and fails unless it succeeds.

use std::time::Duration;

use anyhow::{anyhow, bail};
use chrono::Utc;

use super::Inconclusive;
use super::session::{Session, confirm};
use crate::cli::ClusterArgs;
use kubedeck_core::actions::{Command, ObjectRef, plan};
use kubedeck_core::ops::backups::{self, BackupInfo, FollowEvent, Freshness, JobState};
use kubedeck_kube::duration;

#[derive(Debug, clap::Subcommand)]
pub enum BackupCommand {
    /// Print the backup CronJobs of every namespace (or of one, with -n),
    /// their schedules and freshness; exits 1 if any is stale, 4 if the
    /// freshness of one cannot be told (its schedule cannot be read).
    List(ListArgs),
    /// Run a backup now: a Job from the CronJob, as `kubectl create job
    /// --from=cronjob/NAME` does. Exits 5 when it cannot tell whether the
    /// Job was made (the answer was lost and the Job could not be read back).
    Run(RunArgs),
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Only the backups of this namespace (default: every namespace).
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Every namespace: the default, accepted for scripts that say so.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// cronjob/NAME.
    #[arg(value_name = "cronjob/NAME")]
    pub target: String,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The CronJob's namespace (default: the kubeconfig context's).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Refuse to run it (the refusal is audited), as a read-only context does.
    #[arg(long)]
    pub readonly: bool,
    /// Follow the Job to its end (pods, logs, result); the exit code is 0
    /// only if it succeeds.
    #[arg(long)]
    pub wait: bool,
    /// How long `--wait` waits.
    #[arg(long, default_value = "10m", value_name = "D", value_parser = parse_duration,
          requires = "wait")]
    pub timeout: Duration,
    /// In a protected context, the CronJob's name, to confirm without a prompt.
    #[arg(long, value_name = "NAME")]
    pub confirm_name: Option<String>,
}

pub async fn run(command: BackupCommand) -> anyhow::Result<()> {
    match command {
        BackupCommand::List(args) => list(args).await,
        BackupCommand::Run(args) => run_now(args).await,
    }
}

async fn list(args: ListArgs) -> anyhow::Result<()> {
    // Listing changes nothing: read-only mode does not matter here.
    let session = Session::open(&args.cluster, false).await?;
    let namespace = args.namespace;
    let patterns = &session.config.backups.patterns;
    let found = session
        .reading(
            "listing the backup CronJobs",
            backups::discover(&session.client, namespace.as_deref(), patterns),
        )
        .await?;
    if found.is_empty() {
        say!(
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
    print!("{}", kubedeck_core::terminal::safe(&table(&found)));
    let named = |f: Freshness| -> Vec<String> {
        found
            .iter()
            .filter(|b| b.freshness == f)
            .map(|b| format!("{}/{}", b.namespace, b.name))
            .collect()
    };
    let (stale, unknown) = (named(Freshness::Stale), named(Freshness::Unknown));
    if !stale.is_empty() {
        bail!("{} stale: {}", plural(stale.len()), stale.join(", "))
    }
    if !unknown.is_empty() {
        return Err(Inconclusive(format!(
            "the freshness of {} cannot be told (the schedule cannot be read): {}",
            if unknown.len() == 1 {
                "1 backup".to_string()
            } else {
                format!("{} backups", unknown.len())
            },
            unknown.join(", ")
        ))
        .into());
    }
    Ok(())
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

async fn run_now(args: RunArgs) -> anyhow::Result<()> {
    let session = Session::open(&args.cluster, args.readonly).await?;
    let namespace = session.namespace(args.namespace.as_deref());
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
    // `backups::trigger`, with the reads of planning bounded (a server that
    // stops answering fails here, before any change) and the change not:
    // the executor bounds it and reads a lost answer back.
    let job = backups::manual_job_name(&name);
    let cmd = Command::TriggerCronJob {
        cronjob: ObjectRef::new(&namespace, &name),
        job_name: job.clone(),
    };
    let confirmation = session
        .reading(&format!("reading cronjob/{name}"), async {
            Ok(plan(&session.client, &session.context, &session.config, cmd).await?)
        })
        .await?;
    let confirmed = confirmation.confirm(typed.as_deref())?;
    let outcome = session.executor.execute(confirmed).await?;
    say!("{}", outcome.message);
    if let Some(e) = &outcome.audit_error {
        say_err!("kubedeck: {e}");
    }
    if !args.wait {
        // Not `backup run` again: that would start another Job.
        say!(
            "follow it with: kubectl logs -f job/{job} -n {namespace} (or run the backup with --wait)"
        );
        return Ok(());
    }
    let start = std::time::Instant::now();
    let stamp = |start: std::time::Instant| duration::human(start.elapsed());
    let mut print = |e: FollowEvent| match e {
        FollowEvent::Pod { pod, phase } => say!("[{:>7}] pod/{pod} {phase}", stamp(start)),
        FollowEvent::Log { pod, line } => say!("[{:>7}] {pod}: {line}", stamp(start)),
    };
    let result =
        backups::follow(&session.client, &namespace, &job, args.timeout, &mut print).await?;
    let elapsed = duration::human(result.elapsed);
    match result.state {
        Some(JobState::Succeeded) => {
            say!("job/{job} succeeded in {elapsed}");
            Ok(())
        }
        state => {
            match state {
                Some(_) => say!(
                    "job/{job} failed after {elapsed}: {}",
                    result.message.as_deref().unwrap_or("no reason given")
                ),
                None => say!(
                    "job/{job} still running after {}",
                    duration::human(args.timeout)
                ),
            }
            if !result.last_lines.is_empty() {
                say!("Last log lines:");
                for l in &result.last_lines {
                    say!("  {l}");
                }
            }
            if !result.events.is_empty() {
                say!("Events:");
                for e in &result.events {
                    say!("  {e}");
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
