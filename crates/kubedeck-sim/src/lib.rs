//! The simulated cluster: a Kubernetes API server, its store and a control
//! plane of simulated controllers, scheduler and kubelets, all in-process.
//! `kubedeck sim` serves it; tests and the demo embed it.

mod api;
mod backup_history;
mod behaviour;
pub mod config;
mod controllers;
mod crd;
mod defaults;
mod error;
mod events;
mod field_selector;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod hash;
mod kubeconfig;
mod logs;
mod manifests;
mod metrics;
mod patch;
pub mod resources;
pub mod scale;
pub mod scenario;
pub mod store;
mod table;
#[cfg(test)]
mod test_support;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use config::{AuthMode, SimConfig};
use controllers::Ctx;
use store::Store;

pub struct SimOptions {
    pub listen: SocketAddr,
    /// Where to write the kubeconfig; None writes none.
    pub kubeconfig_out: Option<PathBuf>,
    pub scenario: String,
    pub manifests: Vec<PathBuf>,
    pub config: SimConfig,
}

/// A running simulated cluster. Dropping it stops the server and controllers.
pub struct Sim {
    pub addr: SocketAddr,
    pub kubeconfig: Option<PathBuf>,
    ctx: Arc<Ctx>,
    /// The CA clients must trust when the server speaks TLS (token auth).
    ca_pem: Option<String>,
    tasks: Vec<JoinHandle<()>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Sim {
    pub fn store(&self) -> &Arc<Store> {
        &self.ctx.store
    }

    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Builds the cluster, loads the scenario and manifests, starts the control
/// plane and serves the API.
pub async fn start(opts: SimOptions) -> anyhow::Result<Sim> {
    let store = Store::new(opts.config.watch_window);
    let ctx = Arc::new(Ctx::new(store, opts.config));
    scenario::load(&ctx.store, &opts.scenario)?;
    manifests::load_paths(&ctx.store, &opts.manifests)?;

    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    // The cluster has a CA whether or not it serves TLS: every namespace
    // gets its certificate (`kube-root-ca.crt`), as on a real cluster.
    let certificates = tls::generate(&addr.ip().to_string())?;
    let _ = ctx.root_ca.set(certificates.ca_pem.clone());
    let mut tasks: Vec<JoinHandle<()>> = controllers::all()
        .into_iter()
        .map(|c| controllers::spawn(ctx.clone(), c))
        .collect();
    // kubectl sends tokens only over HTTPS, so token auth serves TLS.
    let tls = match ctx.config.auth {
        AuthMode::Tokens { .. } => Some(certificates),
        AuthMode::Anonymous => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
    let kubeconfig = match opts.kubeconfig_out {
        Some(path) => {
            kubeconfig::write(
                &path,
                &format!("{scheme}://{addr}"),
                &ctx.config.auth,
                ca_pem.as_deref(),
            )
            .with_context(|| format!("cannot write the kubeconfig {}", path.display()))?;
            Some(path)
        }
        None => None,
    };
    let (tx, rx) = oneshot::channel::<()>();
    let app = api::router(ctx.clone());
    let server = match tls {
        None => tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!("the simulated API server stopped: {e}");
            }
        }),
        Some(tls) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem(
                tls.cert_pem.into_bytes(),
                tls.key_pem.into_bytes(),
            )
            .await
            .context("cannot set up TLS")?;
            let handle = axum_server::Handle::new();
            let server = axum_server::tls_rustls::from_tcp_rustls(listener.into_std()?, config)?
                .handle(handle.clone());
            tokio::spawn(async move {
                tokio::spawn(async move {
                    let _ = rx.await;
                    handle.graceful_shutdown(Some(std::time::Duration::from_secs(1)));
                });
                if let Err(e) = server.serve(app.into_make_service()).await {
                    tracing::error!("the simulated API server stopped: {e}");
                }
            })
        }
    };
    tasks.push(server);
    Ok(Sim {
        addr,
        ctx,
        kubeconfig,
        ca_pem,
        tasks,
        shutdown: Some(tx),
    })
}
