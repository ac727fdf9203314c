//! kubedeck: a terminal operations console for Kubernetes.

use clap::Parser;
use kubedeck::{cli, commands};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_env("KUBEDECK_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"))
    };
    let result = match cli.command {
        Some(cli::Command::Sim(args)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_writer(std::io::stderr)
                .init();
            commands::sim::run(args).await
        }
        // The console owns the terminal: its log goes to a file, never stderr.
        Some(cli::Command::Demo(demo)) => {
            log_to_file(filter());
            commands::demo::run(demo, cli.console).await
        }
        None => {
            log_to_file(filter());
            commands::console::run_kubeconfig(cli.console).await
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kubedeck: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn log_to_file(filter: tracing_subscriber::EnvFilter) {
    let Some(paths) = kubedeck::console::config::Paths::discover() else {
        return;
    };
    let path = paths.log_file();
    let file = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
        });
    if let Ok(file) = file {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
}
