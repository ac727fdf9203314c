//! `kubedeck` with no subcommand: the console on a kubeconfig context.

use anyhow::Context as _;
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cli::ConsoleArgs;
use crate::console::run::{ConsoleOptions, run};

pub async fn run_kubeconfig(args: ConsoleArgs) -> anyhow::Result<()> {
    let kubeconfig = Kubeconfig::read().context(
        "cannot read the kubeconfig (KUBECONFIG, or ~/.kube/config); try `kubedeck demo` for a built-in cluster",
    )?;
    let context = args
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .context("the kubeconfig has no current context; pass --context NAME")?;
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        let known: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        anyhow::bail!(
            "no context {context:?} in the kubeconfig; it has: {}",
            known.join(", ")
        );
    }
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .with_context(|| format!("cannot use context {context:?}"))?;
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).context("cannot create a Kubernetes client")?;
    // Fail before taking over the terminal if the server is not there.
    client.apiserver_version().await.with_context(|| {
        format!("cannot reach the API server at {server} (context {context:?})")
    })?;
    run(client, options_from(args, context)).await
}

pub fn options_from(args: ConsoleArgs, context: String) -> ConsoleOptions {
    ConsoleOptions {
        context,
        namespace: if args.all_namespaces {
            None
        } else {
            args.namespace
        },
        readonly: args.readonly,
        theme: args.theme,
        keymap: args.keymap,
    }
}
