//! Loads Kubernetes YAML (files, folders, multi-document) into the store, as
//! `kubectl apply` would.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::Value;

use super::resources;
use super::store::Store;

/// Applies every manifest in the given files and folders.
pub fn load_paths(store: &Store, paths: &[PathBuf]) -> anyhow::Result<()> {
    for path in paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        apply_text(store, &text, &path.display().to_string())?;
    }
    Ok(())
}

/// Applies a multi-document YAML text; `origin` names it in errors.
pub fn apply_text(store: &Store, text: &str, origin: &str) -> anyhow::Result<()> {
    for doc in serde_norway::Deserializer::from_str(text) {
        let obj = Value::deserialize(doc).with_context(|| format!("{origin}: invalid YAML"))?;
        if obj.is_null() {
            continue;
        }
        let api_version = obj["apiVersion"].as_str().unwrap_or("");
        let kind = obj["kind"].as_str().unwrap_or("");
        let Some(res) = resources::by_kind(api_version, kind).filter(|r| r.stored) else {
            bail!("{origin}: unknown kind {kind:?} in apiVersion {api_version:?}");
        };
        store
            .create(res, obj)
            .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    }
    Ok(())
}
