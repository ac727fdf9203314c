//! `kubedeck demo`: the console on a simulated cluster started in-process.

use anyhow::Context as _;

use crate::cli::DemoArgs;
use crate::commands::console::options_from;
use kubedeck_console::run::{Contexts, LogBell};
use kubedeck_sim::{self as sim, SimOptions, config::SimConfig};

pub async fn run(demo: DemoArgs, log_bell: LogBell) -> anyhow::Result<()> {
    let sim = sim::start(SimOptions {
        listen: "127.0.0.1:0".parse().context("loopback address")?,
        kubeconfig_out: None,
        scenario: demo.scenario,
        manifests: Vec::new(),
        config: SimConfig {
            seed: demo.seed,
            ..SimConfig::default()
        },
    })
    .await
    .context("cannot start the simulated cluster")?;
    let config = kube::Config::new(sim.url().parse().context("simulator URL")?);
    let client = kube::Client::try_from(config).context("cannot create a Kubernetes client")?;
    kubedeck_console::run::run(
        client,
        options_from(
            demo.view,
            "kubedeck-demo".to_string(),
            Contexts::Fixed,
            log_bell,
        ),
    )
    .await
}
