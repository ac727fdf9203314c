//! Revealing one key of a Secret, base64-decoded: the only way kubedeck
//! shows a Secret's value. Every reveal passes one gate, as an exec does:
//! refused in read-only mode unless the config allows reveals there
//! (`allow-reveal-in-read-only`), refused while the config is broken,
//! checked against RBAC (`get secrets`) before the API server is asked,
//! and audited with the secret and the key, never the value.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use serde_json::json;

use crate::actions::command::Access;
use crate::actions::{ActionError, AuditResult, Executor, Permission, Rbac, Record};

/// The audit log's name for a reveal.
pub const ACTION: &str = "reveal-secret-key";

/// One key of one Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKey {
    pub namespace: String,
    pub name: String,
    pub key: String,
}

impl SecretKey {
    pub fn new(namespace: &str, name: &str, key: &str) -> SecretKey {
        SecretKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
            key: key.to_string(),
        }
    }

    /// `secret/NAME`, as the audit log names objects.
    pub fn object(&self) -> String {
        format!("secret/{}", self.name)
    }

    fn access(&self) -> Access {
        Access {
            verb: "get",
            group: "".into(),
            resource: "secrets".into(),
            subresource: "",
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// A revealed value. Its `Debug` says only its size, so that no log line
/// or panic message formatting it can carry the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Revealed(Vec<u8>);

impl Revealed {
    pub fn new(bytes: Vec<u8>) -> Revealed {
        Revealed(bytes)
    }

    /// The decoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Revealed(<{} bytes>)", self.0.len())
    }
}

/// Why the gate refuses before anything is read, if it does: a broken
/// config always; read-only unless `allow_in_read_only`.
pub fn refusal(executor: &Executor, allow_in_read_only: bool) -> Option<ActionError> {
    match executor.refusal() {
        Some(ActionError::ReadOnly { .. }) if allow_in_read_only => None,
        other => other,
    }
}

/// Passes the gate and reads the key; the attempt is audited whatever
/// happens, with the secret and key but never the value.
pub async fn reveal(
    executor: &Executor,
    allow_in_read_only: bool,
    target: &SecretKey,
) -> Result<Revealed, ActionError> {
    let started = Instant::now();
    let result = gate_and_read(executor, allow_in_read_only, target).await;
    let audit_result = AuditResult::of(&result);
    let record = Record {
        time: chrono::Utc::now(),
        user: executor.user.clone(),
        context: executor.context.clone(),
        namespace: target.namespace.clone(),
        object: target.object(),
        action: ACTION.to_string(),
        parameters: json!({ "key": target.key }),
        before: String::new(),
        after: String::new(),
        result: audit_result,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let log = executor.audit.clone();
    let written = tokio::task::spawn_blocking(move || log.append(&record)).await;
    let problem = match written {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(p) = problem {
        let path = executor.audit.path().display().to_string();
        tracing::warn!("could not write the audit log {path}: {p}");
        // A reveal that went unrecorded is not shown.
        if result.is_ok() {
            return Err(ActionError::AuditUnavailable(format!(
                "the audit log {path} cannot be written: {p}"
            )));
        }
    }
    result
}

async fn gate_and_read(
    executor: &Executor,
    allow_in_read_only: bool,
    target: &SecretKey,
) -> Result<Revealed, ActionError> {
    if let Some(refusal) = refusal(executor, allow_in_read_only) {
        return Err(refusal);
    }
    if target.key.is_empty() {
        return Err(ActionError::Invalid("no key to reveal".into()));
    }
    // No record, no reveal: the log must take the record first.
    executor.check_audit().await?;
    let access = target.access();
    // Asked afresh: a cached "yes" must not outlive a revoked role here.
    let rbac = Rbac::new(executor.client.clone(), Duration::ZERO);
    if let Permission::Denied(why) = rbac.can_access(&access).await {
        return Err(ActionError::Forbidden {
            what: access.describe(),
            message: why,
        });
    }
    let api: Api<Secret> = Api::namespaced(executor.client.clone(), &target.namespace);
    let secret = tokio::time::timeout(executor.timeout, api.get(&target.name))
        .await
        .map_err(|_| {
            ActionError::Api(format!(
                "no answer from the API server within {:?}",
                executor.timeout
            ))
        })?
        .map_err(|e| ActionError::from_kube(e, &access))?;
    // `data` arrives decoded (k8s-openapi's ByteString); `stringData` is
    // write-only, so the server never returns it.
    secret
        .data
        .and_then(|mut d| d.remove(&target.key))
        .map(|b| Revealed(b.0))
        .ok_or_else(|| {
            ActionError::NotFound(format!(
                "{} in namespace {} has no key {:?}",
                target.object(),
                target.namespace,
                target.key
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revealed_value_never_formats_into_debug_output() {
        let v = Revealed::new(b"hunter2".to_vec());
        let shown = format!("{v:?} {:?}", Some(&v));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<7 bytes>"), "{shown}");
        assert_eq!(v.bytes(), b"hunter2");
    }
}
