//! `kubedeck sim`: serve a simulated cluster until Ctrl-C or SIGTERM.

use crate::cli::{AuthArg, SimArgs};
use kubedeck_sim::{
    self as sim, SimOptions, config::AuthMode, config::SimConfig, store::random_suffix,
};

pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let auth = match args.auth {
        AuthArg::Anonymous => AuthMode::Anonymous,
        AuthArg::Tokens => AuthMode::Tokens {
            admin: format!("kubedeck-admin-{}", random_suffix(24)),
            viewer: format!("kubedeck-viewer-{}", random_suffix(24)),
        },
    };
    let kubeconfig_out = args.kubeconfig_out.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("kubedeck-sim-{}.kubeconfig", std::process::id()))
    });
    let (pods, seed) = (args.pods, args.seed);
    let sim = sim::start(SimOptions {
        listen: args.listen,
        kubeconfig_out: Some(kubeconfig_out),
        scenario: args.scenario,
        manifests: args.manifests,
        config: SimConfig {
            auth,
            seed: args.seed,
            watch_window: args.watch_window,
            ..SimConfig::default()
        },
    })
    .await?;
    // Added once the control plane runs, which then creates the pods.
    sim::scale::add_synthetic(sim.store(), pods, seed)?;
    println!("kubedeck sim: serving the Kubernetes API on {}", sim.url());
    if let Some(path) = &sim.kubeconfig {
        println!("kubeconfig: {}", path.display());
        println!("try: kubectl --kubeconfig {} get pods -A", path.display());
    }
    wait_for_stop().await;
    println!("kubedeck sim: stopped");
    Ok(())
}

async fn wait_for_stop() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
