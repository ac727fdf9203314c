//! `kubedeck runbook run|check|list`: runbooks from the command line.
//! `run` drives the runner to the end, prompting on the terminal at
//! `confirm` steps (or passing them with `--yes`), then writes the
//! Markdown incident log and the audit record.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use anyhow::{Context, anyhow, bail};

use super::session::Session;
use super::{Inconclusive, OutcomeUnknown};
use crate::cli::ClusterArgs;
use kubedeck_core::actions::ActionError;
use kubedeck_core::config::Paths;
use kubedeck_core::runbooks::library::{self, Origin};
use kubedeck_core::runbooks::model::StepKind;
use kubedeck_core::runbooks::{
    Env, Input, Progress, Prompt, Run, RunOutcome, Status, record, validate,
};

#[derive(Debug, clap::Subcommand)]
pub enum RunbookCommand {
    /// Run a runbook (a file, or the name of a shipped or user runbook)
    /// against a kubeconfig context. Exits 1 when it fails or is aborted,
    /// 4 when it ends incomplete (a check could not be evaluated), 5 when it
    /// stopped at an action whose outcome is unknown (its answer was lost
    /// and it could not be read back).
    Run(RunArgs),
    /// Validate runbooks: every error with its file and line.
    Check {
        /// Runbook files, or names of shipped or user runbooks.
        #[arg(required = true, value_name = "FILE|NAME")]
        runbooks: Vec<String>,
    },
    /// The shipped runbooks and yours, with their titles.
    List,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// A file path or a runbook name (see `runbook list`).
    runbook: String,
    /// Override a variable (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Answer yes to every confirm step (typed names in protected
    /// contexts are still asked for).
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Sets the runbook's `namespace` variable (unless --var does); an
    /// error for a runbook without one.
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Refuse every action of the run (each refusal is audited), as a
    /// read-only context does.
    #[arg(long)]
    readonly: bool,
    /// The Prometheus that `promql` checks ask (default: the context's
    /// `prometheus` in config.toml, else `[metrics.prometheus]`'s url);
    /// without one they are inconclusive and the run ends incomplete.
    #[arg(long, value_name = "URL")]
    prometheus: Option<String>,
}

pub async fn run(command: RunbookCommand) -> anyhow::Result<()> {
    let paths = Paths::discover();
    let user_dir = paths.as_ref().map(Paths::runbooks_dir);
    match command {
        RunbookCommand::List => {
            list(user_dir.as_deref());
            Ok(())
        }
        RunbookCommand::Check { runbooks } => check(&runbooks, user_dir.as_deref()),
        RunbookCommand::Run(args) => run_one(&args, paths.as_ref(), user_dir.as_deref()).await,
    }
}

fn list(user_dir: Option<&std::path::Path>) {
    let rows = library::list(user_dir);
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    say!("{:width$}  {:8}  TITLE", "NAME", "SOURCE");
    for r in rows {
        let source = match &r.origin {
            Origin::Shipped => "shipped".to_string(),
            Origin::User(_) | Origin::File(_) => "user".to_string(),
        };
        let title = match r.title {
            Ok(t) => t,
            Err(e) => format!("(unreadable: {e})"),
        };
        say!("{:width$}  {source:8}  {title}", r.name);
    }
    if let Some(dir) = user_dir {
        say!("\nyour runbooks: {}", dir.display());
    }
}

fn check(runbooks: &[String], user_dir: Option<&std::path::Path>) -> anyhow::Result<()> {
    let mut failed = 0;
    for arg in runbooks {
        let source = match library::find(arg, user_dir) {
            Ok(s) => s,
            Err(e) => {
                say_err!("kubedeck: {e}");
                failed += 1;
                continue;
            }
        };
        let errors = validate::check(&source.name, &source.label, &source.text);
        if errors.is_empty() {
            say!("{}: ok", source.label);
        } else {
            for e in &errors {
                say!("{e}");
            }
            failed += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} of {} runbooks have errors", runbooks.len());
    }
    Ok(())
}

fn parse_vars(vars: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    vars.iter()
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| anyhow!("--var {v:?}: expected NAME=VALUE"))
        })
        .collect()
}

async fn run_one(
    args: &RunArgs,
    paths: Option<&Paths>,
    user_dir: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let yes = args.yes;
    let source = library::find(&args.runbook, user_dir).map_err(|e| anyhow!(e))?;
    let mut overrides = parse_vars(&args.vars)?;
    let fail = |errors: Vec<validate::Diagnostic>| {
        for e in &errors {
            say_err!("{e}");
        }
        anyhow!("{}: {} errors; nothing was run", source.label, errors.len())
    };
    let runbook = validate::parse(&source.name, &source.label, &source.text).map_err(fail)?;
    // `-n NS` sets the runbook's `namespace` variable, unless --var does.
    if let Some(ns) = &args.namespace {
        if !runbook.variables.contains_key("namespace") {
            bail!(
                "-n {ns}: {} has no `namespace` variable, so -n would change nothing; nothing was run",
                source.label
            );
        }
        if !overrides.contains_key("namespace") {
            overrides.insert("namespace".into(), ns.clone());
        }
    }
    let plan = runbook.resolve(&overrides).map_err(fail)?;
    let interactive = std::io::stdin().is_terminal();
    let gates = plan
        .steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Confirm(_)))
        .count();
    if gates > 0 && !yes && !interactive {
        bail!(
            "{} has {gates} confirm steps and the input is not a terminal: nobody can answer them; pass --yes to confirm them",
            source.label
        );
    }

    let Session {
        client,
        context,
        user,
        config,
        audit,
        executor,
    } = Session::open(&args.cluster, args.readonly).await?;
    let readonly = executor.readonly;
    let prometheus = config
        .prometheus_for(&context, args.prometheus.as_deref())
        .map(|p| p.url);
    // Lines a long action printed as they came are not printed again.
    let printed: Arc<Mutex<Vec<String>>> = Arc::default();
    let live_printed = printed.clone();
    let env = Env {
        client,
        executor,
        config,
        prometheus,
        live: Some(Box::new(move |line: &str| {
            say!("      {line}");
            live_printed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(line.to_string());
        })),
        recovery: None,
        confirm_actions: false,
    };

    say!("runbook {} — {}", plan.name, plan.title);
    say!(
        "context {context}, as {user}{}",
        if readonly { ", read-only" } else { "" }
    );
    let total = plan.steps.len();
    let mut run = Run::new(plan, &user);
    let mut input = None;
    let mut announced = None;
    while let Some(i) = run.current() {
        if announced != Some(i) {
            let step = &run.plan.steps[i];
            say!("[{}/{total}] {} ({})", i + 1, step.name, step.kind.word());
            announced = Some(i);
        }
        match run.advance(&env, input.take()).await {
            Progress::Waiting(prompt) => input = Some(answer(&prompt, yes, interactive).await?),
            Progress::Stepped { index, status } => {
                let mut live = printed.lock().unwrap_or_else(|e| e.into_inner());
                for line in &run.states[index].output {
                    if let Some(pos) = live.iter().position(|l| l == line) {
                        live.remove(pos);
                    } else {
                        say!("      {line}");
                    }
                }
                live.clear();
                let mark = match status {
                    Status::Passed => "ok",
                    Status::Failed => "FAILED",
                    Status::Skipped if run.is_inconclusive(index) => "INCONCLUSIVE",
                    Status::Skipped => "skipped",
                    Status::Pending | Status::Running => "",
                };
                say!("    → {mark}");
                announced = None;
            }
            Progress::Finished => break,
        }
    }

    let outcome = run.outcome().cloned().unwrap_or(RunOutcome::Succeeded);
    say!("\nrunbook {}: {outcome}", run.plan.name);
    match paths {
        Some(p) => match record::save(&run, &context, &p.data_dir.join("runs")) {
            Ok(path) => say!("incident log: {}", path.display()),
            Err(e) => say_err!("kubedeck: the incident log was not written: {e}"),
        },
        None => say_err!("kubedeck: no home directory: the incident log was not written"),
    }
    if let Err(e) = record::append_audit(&run, &context, &audit) {
        bail!(
            "runbook {}: {outcome}, but its audit record could not be written to {}: {e}",
            run.plan.name,
            audit.path().display()
        );
    }
    if let RunOutcome::Failed { reason, .. } = &outcome
        && ActionError::is_outcome_unknown_text(reason)
    {
        // An action step stopped the run not knowing whether it acted.
        return Err(OutcomeUnknown(format!("runbook {outcome}")).into());
    }
    match outcome {
        RunOutcome::Succeeded => Ok(()),
        incomplete @ RunOutcome::Incomplete { .. } => {
            Err(Inconclusive(format!("runbook {}", incomplete)).into())
        }
        other => Err(anyhow!("runbook {}", other)),
    }
}

/// The human's answer, from the terminal or `--yes`.
async fn answer(prompt: &Prompt, yes: bool, interactive: bool) -> anyhow::Result<Input> {
    match prompt {
        Prompt::Confirm(_) if yes => Ok(Input::Yes),
        Prompt::Confirm(question) => {
            let line = ask(format!("      {question} [y/N] ")).await?;
            Ok(if matches!(line.trim(), "y" | "Y" | "yes") {
                Input::Yes
            } else {
                Input::No
            })
        }
        Prompt::TypeName { expected, action } => {
            if !interactive {
                say!(
                    "      this context is protected: {action} needs {expected:?} typed, which --yes does not do"
                );
                return Ok(Input::No);
            }
            let line = ask(format!(
                "      this context is protected: type {expected} to {action}: "
            ))
            .await?;
            Ok(Input::Typed(line.trim().to_string()))
        }
    }
}

async fn ask(prompt: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        print!("{}", kubedeck_core::terminal::safe(&prompt));
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok::<_, std::io::Error>(line)
    })
    .await
    .context("the prompt stopped")?
    .context("cannot read the answer from the terminal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_need_a_name_and_an_equals_sign() {
        let v = parse_vars(&["a=1".into(), "b=x=y".into(), "c=".into()]).unwrap();
        assert_eq!(v["a"], "1");
        assert_eq!(v["b"], "x=y");
        assert_eq!(v["c"], "");
        assert!(parse_vars(&["novalue".into()]).is_err());
        assert!(parse_vars(&["=1".into()]).is_err());
    }
}
