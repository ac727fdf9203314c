//! The kubeconfig the simulator writes so that clients find it.

use std::path::Path;

use super::config::AuthMode;

/// Writes a kubeconfig whose current context `kubedeck-sim` points at `server`.
pub fn write(path: &Path, server: &str, _auth: &AuthMode) -> anyhow::Result<()> {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kubedeck-sim\n  cluster:\n    server: {server}\ncontexts:\n- name: kubedeck-sim\n  context:\n    cluster: kubedeck-sim\n    user: kubedeck-sim-admin\ncurrent-context: kubedeck-sim\nusers:\n- name: kubedeck-sim-admin\n  user: {{}}\n"
    );
    std::fs::write(path, text)?;
    Ok(())
}
