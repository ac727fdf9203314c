//! Building a client for a kubeconfig context: at start-up and for `:ctx`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// How long to wait for the API server's /version before giving up on a
/// context: long enough for a slow VPN, short enough to say so.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the kubeconfig off the async threads (it is file I/O): `file`
/// when `--kubeconfig` named one, else as kubectl finds it (`KUBECONFIG`,
/// then `~/.kube/config`). The error names what was read.
pub async fn read_kubeconfig_file(file: Option<&Path>) -> anyhow::Result<Kubeconfig> {
    let file = file.map(Path::to_path_buf);
    tokio::task::spawn_blocking(move || match file {
        Some(path) => Kubeconfig::read_from(&path)
            .with_context(|| format!("cannot read the kubeconfig {}", path.display())),
        None => {
            Kubeconfig::read().context("cannot read the kubeconfig (KUBECONFIG, or ~/.kube/config)")
        }
    })
    .await
    .context("the kubeconfig reader stopped")?
}

/// The kubeconfig's context names, in file order.
pub fn context_names(kubeconfig: &Kubeconfig) -> Vec<String> {
    kubeconfig.contexts.iter().map(|c| c.name.clone()).collect()
}

/// A client for `context` (None: the current context), checked against
/// the API server so a wrong or unreachable context fails here, with the
/// context's name, rather than as watch errors later.
pub async fn connect(
    kubeconfig: Kubeconfig,
    context: Option<&str>,
) -> anyhow::Result<(String, Client)> {
    let context = context
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
        .context("the kubeconfig has no current context; pass --context NAME")?;
    let names = context_names(&kubeconfig);
    if !names.contains(&context) {
        anyhow::bail!(
            "no context {context:?} in the kubeconfig; it has: {}",
            names.join(", ")
        );
    }
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .with_context(|| format!("cannot use context {context:?}"))?;
    // kube-rs retries 429s by default, but an eviction's 429 is a disruption
    // budget's answer, not throttling: retried, it turns a clear refusal into
    // a timeout. Watchers back off on their own; actions report what the
    // server said.
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).context("cannot create a Kubernetes client")?;
    let unreachable = || format!("cannot reach the API server at {server} (context {context:?})");
    tokio::time::timeout(REACH_TIMEOUT, client.apiserver_version())
        .await
        .map_err(|_| anyhow::anyhow!("no answer in {}s", REACH_TIMEOUT.as_secs()))
        .with_context(unreachable)?
        .with_context(unreachable)?;
    Ok((context, client))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig() -> Kubeconfig {
        Kubeconfig::from_yaml(
            "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: 'http://127.0.0.1:1'}
users:
- name: u
  user: {}
contexts:
- name: prod
  context: {cluster: c, user: u}
- name: staging
  context: {cluster: c, user: u}
current-context: staging
",
        )
        .expect("valid kubeconfig")
    }

    #[tokio::test]
    async fn an_unknown_context_is_refused_with_the_known_ones() {
        let err = connect(kubeconfig(), Some("nope"))
            .await
            .map(|(name, _)| name)
            .expect_err("no such context");
        assert_eq!(
            err.to_string(),
            "no context \"nope\" in the kubeconfig; it has: prod, staging"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_names_the_context() {
        let err = connect(kubeconfig(), None)
            .await
            .map(|(name, _)| name)
            .expect_err("nothing listens on port 1");
        assert!(
            format!("{err:#}").starts_with(
                "cannot reach the API server at http://127.0.0.1:1/ (context \"staging\")"
            ),
            "{err:#}"
        );
    }
}
