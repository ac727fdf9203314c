//! kubedeck: a terminal operations console for Kubernetes.

use clap::Parser;
mod cli;
mod commands;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    exit_on_main_thread_panic();
    let cli = cli::Cli::parse();
    let result = match cli.command {
        Some(cli::CliCommand::Sim(args)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter("warn"))
                .with_writer(std::io::stderr)
                .init();
            commands::sim::run(args).await
        }
        Some(cli::CliCommand::Audit(args)) => commands::audit::run(&args),
        Some(cli::CliCommand::Chaos(chaos)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter("warn,kube_client=off,kube_runtime=off"))
                .with_writer(std::io::stderr)
                .init();
            commands::chaos::run(chaos).await
        }
        Some(cli::CliCommand::Backup(backup)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter("warn,kube_client=off,kube_runtime=off"))
                .with_writer(std::io::stderr)
                .init();
            commands::backup::run(backup).await
        }
        Some(cli::CliCommand::Runbook(runbook)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter("warn,kube_client=off,kube_runtime=off"))
                .with_writer(std::io::stderr)
                .init();
            commands::runbook::run(runbook).await
        }
        Some(cli::CliCommand::Exec(args)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter("warn,kube_client=off,kube_runtime=off"))
                .with_writer(std::io::stderr)
                .init();
            commands::exec::run(args).await
        }
        Some(cli::CliCommand::PortForward(args)) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter("warn,kube_client=off,kube_runtime=off"))
                .with_writer(std::io::stderr)
                .init();
            commands::port_forward::run(args).await
        }
        Some(cli::CliCommand::Drain(args)) => {
            headless_logging();
            commands::node::drain(args).await
        }
        Some(cli::CliCommand::Cordon(args)) => {
            headless_logging();
            commands::node::cordon(args).await
        }
        Some(cli::CliCommand::Uncordon(args)) => {
            headless_logging();
            commands::node::uncordon(args).await
        }
        Some(cli::CliCommand::Demo(demo)) => {
            let bell = console_logging();
            commands::demo::run(demo, bell).await
        }
        None => {
            let bell = console_logging();
            commands::console::run_kubeconfig(cli.console, bell).await
        }
    };
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            // Errors quote the cluster (API messages, names): no escapes.
            eprintln!(
                "kubedeck: {}",
                kubedeck_core::terminal::safe(&format!("{e:#}"))
            );
            i32::from(commands::exit_code(&e))
        }
    };
    // Exit here rather than return: a kubeconfig credential plugin that
    // timed out still holds a blocking thread, and the runtime would wait
    // for it on the way out.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::process::exit(code)
}

/// A panic on the main thread, where the console's UI loop runs, ends the
/// process with 101 once it is printed: unwinding would drop the runtime,
/// which waits for its blocking threads (the terminal reader, a hung
/// credential plugin) and could hang forever. The console's own hook gives
/// the terminal back before this one runs.
fn exit_on_main_thread_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        if std::thread::current().name() == Some("main") {
            std::process::exit(101);
        }
    }));
}

/// The headless commands log warnings to stderr; kube's own request
/// errors are reported by the commands themselves.
fn headless_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(filter("warn,kube_client=off,kube_runtime=off"))
        .with_writer(std::io::stderr)
        .init();
}

/// `KUBEDECK_LOG` (tracing's env-filter syntax), else `default`.
fn filter(default: &str) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_env("KUBEDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
}

/// The console owns the terminal, so its log never goes to stderr: it goes
/// to the log pane (tui-logger) and to a file in the XDG state dir. The
/// bell tells the console that the pane has news.
fn console_logging() -> kubedeck_console::run::LogBell {
    let (bell, bell_layer) = kubedeck_console::run::LogBell::new();
    let file = kubedeck_core::config::Paths::discover().and_then(|paths| {
        let path = paths.log_file();
        path.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| kubedeck_core::private_file::append(&path))
            .ok()
    });
    let file_layer = file.map(|f| {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(f))
    });
    // Not `tui_logger::init_logger`: its mover thread wakes every 10 ms,
    // which was most of the idle CPU. The console moves the events itself
    // before each frame.
    tui_logger::set_default_level(tui_logger::LevelFilter::Trace);
    tracing_subscriber::registry()
        // kube-client logs every failed request of a retrying watch as an
        // error; the watchers report each failure once themselves.
        .with(filter("warn,kubedeck=info,kube_client=off"))
        .with(file_layer)
        .with(tui_logger::TuiTracingSubscriberLayer)
        .with(bell_layer)
        .init();
    bell
}
