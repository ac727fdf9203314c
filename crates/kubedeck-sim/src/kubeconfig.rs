//! The kubeconfig the simulator writes so that clients find it.

use std::path::Path;

use serde_json::{Value, json};

use super::config::AuthMode;

pub(crate) const CLUSTER: &str = "kubedeck-sim";
pub(crate) const CONTEXT: &str = "kubedeck-sim";
pub(crate) const VIEWER_CONTEXT: &str = "kubedeck-sim-viewer";

fn context(name: &str, user: &str) -> Value {
    json!({"name": name, "context": {"cluster": CLUSTER, "user": user}})
}

/// The kubeconfig document: cluster and current context `kubedeck-sim`;
/// with tokens, the admin context carries the admin token and a second
/// context `kubedeck-sim-viewer` the viewer's.
pub(crate) fn document(server: &str, auth: &AuthMode, ca_pem: Option<&str>) -> Value {
    let (contexts, users) = match auth {
        AuthMode::Anonymous => (
            vec![context(CONTEXT, "kubedeck-sim-admin")],
            vec![json!({"name": "kubedeck-sim-admin", "user": {}})],
        ),
        AuthMode::Tokens { admin, viewer } => (
            vec![
                context(CONTEXT, "kubedeck-sim-admin"),
                context(VIEWER_CONTEXT, "kubedeck-sim-viewer"),
            ],
            vec![
                json!({"name": "kubedeck-sim-admin", "user": {"token": admin}}),
                json!({"name": "kubedeck-sim-viewer", "user": {"token": viewer}}),
            ],
        ),
    };
    let mut cluster = json!({"server": server});
    if let Some(ca) = ca_pem {
        use base64::Engine as _;
        cluster["certificate-authority-data"] =
            json!(base64::engine::general_purpose::STANDARD.encode(ca));
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": CLUSTER, "cluster": cluster}],
        "contexts": contexts,
        "current-context": CONTEXT,
        "users": users,
    })
}

/// Writes a kubeconfig whose current context `kubedeck-sim` points at
/// `server`, trusting `ca_pem` when the server speaks TLS. It may hold
/// tokens, so it is readable by its owner only.
pub(crate) fn write(
    path: &Path,
    server: &str,
    auth: &AuthMode,
    ca_pem: Option<&str>,
) -> anyhow::Result<()> {
    let text = serde_norway::to_string(&document(server, auth, ca_pem))?;
    std::fs::write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_kubeconfig_has_admin_and_viewer_contexts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kc");
        let auth = AuthMode::Tokens {
            admin: "a-tok".into(),
            viewer: "v-tok".into(),
        };
        write(&path, "http://127.0.0.1:1234", &auth, None).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(doc["current-context"], "kubedeck-sim");
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:1234"
        );
        let user_of = |ctx: &str| {
            let c = doc["contexts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == ctx)
                .unwrap();
            let user = c["context"]["user"].clone();
            doc["users"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["name"] == user)
                .unwrap()["user"]["token"]
                .clone()
        };
        assert_eq!(user_of("kubedeck-sim"), "a-tok");
        assert_eq!(user_of("kubedeck-sim-viewer"), "v-tok");
    }

    #[test]
    fn anonymous_kubeconfig_has_one_context_without_credentials() {
        let doc = document("http://h:1", &AuthMode::Anonymous, None);
        assert_eq!(doc["contexts"].as_array().unwrap().len(), 1);
        assert_eq!(doc["users"][0]["user"], json!({}));
    }
}
