//! `kubedeck` with no subcommand: the console on a kubeconfig context.

use crate::cli::{ConsoleArgs, ViewArgs};
use kubedeck_console::run::{ConsoleOptions, Contexts, LogBell, run};
use kubedeck_core::connect::{connect, read_kubeconfig_file};

pub async fn run_kubeconfig(args: ConsoleArgs, log_bell: LogBell) -> anyhow::Result<()> {
    let kubeconfig = read_kubeconfig_file(args.cluster.kubeconfig.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{e:#}\n(try `kubedeck demo` for a built-in cluster)"))?;
    // Fail before taking over the terminal if the context is wrong or the
    // server is not there.
    let (context, client) = connect(kubeconfig, args.cluster.context.as_deref()).await?;
    let options = options_from(
        args.view,
        context,
        Contexts::Kubeconfig(args.cluster.kubeconfig.clone()),
        log_bell,
    );
    run(client, options).await
}

pub fn options_from(
    args: ViewArgs,
    context: String,
    contexts: Contexts,
    log_bell: LogBell,
) -> ConsoleOptions {
    ConsoleOptions {
        context,
        contexts,
        namespace: if args.all_namespaces {
            None
        } else {
            args.namespace
        },
        all_namespaces: args.all_namespaces,
        readonly: args.readonly,
        theme: args.theme,
        keymap: args.keymap,
        prometheus: args.prometheus,
        log_bell,
    }
}
