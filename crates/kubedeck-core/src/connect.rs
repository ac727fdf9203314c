//! Building a client for a kubeconfig context: at start-up and for `:ctx`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// How long to wait for the API server's /version before giving up on a
/// context: long enough for a slow VPN, short enough to say so.
const REACH_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a kubeconfig `exec` credential plugin may take (a browser
/// login included) before kubedeck says so instead of waiting forever.
const EXEC_TIMEOUT: Duration = Duration::from_secs(30);
/// Overrides `EXEC_TIMEOUT` (`45s`, `2m`).
pub const EXEC_TIMEOUT_ENV: &str = "KUBEDECK_EXEC_TIMEOUT";

/// `KUBEDECK_EXEC_TIMEOUT`, else 30s; an unreadable value is an error.
fn exec_timeout() -> anyhow::Result<Duration> {
    match std::env::var(EXEC_TIMEOUT_ENV) {
        Ok(text) => kubedeck_kube::duration::parse(&text)
            .map_err(|e| anyhow::anyhow!("{EXEC_TIMEOUT_ENV}={text:?}: {e}")),
        Err(_) => Ok(EXEC_TIMEOUT),
    }
}

/// The client, made off the async threads and within `exec_timeout()`:
/// kube-rs runs a kubeconfig `exec` plugin while making it, synchronously,
/// and a plugin that never answers would hang start-up without a word.
async fn make_client(config: kube::Config, context: &str) -> anyhow::Result<Client> {
    let plugin = config.auth_info.exec.as_ref().map(|e| {
        std::iter::once(e.command.clone().unwrap_or_default())
            .chain(e.args.clone().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ")
    });
    let Some(plugin) = plugin else {
        return Client::try_from(config).context("cannot create a Kubernetes client");
    };
    let timeout = exec_timeout()?;
    // On a timeout the plugin's thread is left behind: it cannot be
    // cancelled, and the binary exits without waiting for it.
    let made = tokio::time::timeout(
        timeout,
        tokio::task::spawn_blocking(move || Client::try_from(config)),
    )
    .await
    .map_err(|_| {
        anyhow::anyhow!(
            "the credential plugin of context {context:?} (`{plugin}`) did not finish within {}: \
             is it waiting for a login? Run it yourself to see, or set {EXEC_TIMEOUT_ENV} (e.g. 2m)",
            kubedeck_kube::duration::human(timeout)
        )
    })?
    .context("the Kubernetes client's maker stopped")?;
    made.with_context(|| {
        format!("cannot create a Kubernetes client: the credential plugin of context {context:?} (`{plugin}`) failed")
    })
}

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
    let client = make_client(config, &context).await?;
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
