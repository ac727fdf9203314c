//! Built-in scenarios: the cluster a simulator starts with, as embedded
//! Kubernetes YAML.

use anyhow::bail;

use super::manifests;
use super::store::Store;

/// The names `--scenario` accepts.
pub const NAMES: &[&str] = &["minimal", "empty"];

const BASE: &str = include_str!("scenarios/base.yaml");
const MINIMAL: &str = include_str!("scenarios/minimal.yaml");

/// Loads the objects every cluster has, then the named scenario.
pub fn load(store: &Store, name: &str) -> anyhow::Result<()> {
    let extra = match name {
        "minimal" => MINIMAL,
        "empty" => "",
        other => bail!(
            "unknown scenario {other:?}; the scenarios are: {}",
            NAMES.join(", ")
        ),
    };
    manifests::apply_text(store, BASE, "scenario base")?;
    manifests::apply_text(store, extra, &format!("scenario {name}"))?;
    Ok(())
}
