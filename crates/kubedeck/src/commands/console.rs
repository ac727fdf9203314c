//! `kubedeck` with no subcommand: the console on a kubeconfig context.

use crate::cli::ConsoleArgs;
use kubedeck_console::run::{ConsoleOptions, Contexts, run};
use kubedeck_core::connect::{connect, read_kubeconfig_file};

pub async fn run_kubeconfig(args: ConsoleArgs) -> anyhow::Result<()> {
    let kubeconfig = read_kubeconfig_file(args.kubeconfig.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("{e:#}\n(try `kubedeck demo` for a built-in cluster)"))?;
    // Fail before taking over the terminal if the context is wrong or the
    // server is not there.
    let (context, client) = connect(kubeconfig, args.context.as_deref()).await?;
    run(client, options_from(args, context, Contexts::Kubeconfig)).await
}

pub fn options_from(args: ConsoleArgs, context: String, contexts: Contexts) -> ConsoleOptions {
    ConsoleOptions {
        context,
        contexts,
        namespace: if args.all_namespaces {
            None
        } else {
            args.namespace
        },
        readonly: args.readonly,
        theme: args.theme,
        keymap: args.keymap,
        prometheus: args.prometheus,
    }
}
