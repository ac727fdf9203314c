//! An edit's replace through the dynamic API: the object to send (the
//! edited text, at the resourceVersion it was read at, with the status the
//! editor did not show), its server-side dry run for the confirm dialog,
//! and the 409 that says someone changed it meanwhile.

use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::Value;

use super::command::{Command, ResourceRef};
use super::edit::{self, EditedText};
use super::error::ActionError;

/// Who the server records as writing the change (managedFields).
const FIELD_MANAGER: &str = "kubedeck-edit";

pub(crate) fn api(client: &Client, object: &ResourceRef) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&object.group, &object.version, &object.kind),
        &object.plural,
    );
    match &object.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// The object's API path, to read it back.
pub(crate) fn path(object: &ResourceRef) -> String {
    let base = if object.group.is_empty() {
        format!("/api/{}", object.version)
    } else {
        format!("/apis/{}/{}", object.group, object.version)
    };
    match &object.namespace {
        Some(ns) => format!("{base}/namespaces/{ns}/{}/{}", object.plural, object.name),
        None => format!("{base}/{}/{}", object.plural, object.name),
    }
}

pub(crate) fn params(dry_run: bool) -> PostParams {
    PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
    }
}

/// The original and the object to send: the edited one, at the
/// resourceVersion read whatever the text says, with the status read.
pub(crate) fn body(
    resource_version: &str,
    text: &EditedText,
) -> Result<(Value, Value), ActionError> {
    let invalid = |what: &str, e: String| ActionError::Invalid(format!("the {what} edit: {e}"));
    let before = edit::parse(&text.original)
        .map_err(|e| invalid("original of the", e))?
        .unwrap_or(Value::Null);
    let mut after = edit::parse(&text.edited)
        .map_err(|e| invalid("saved", e))?
        .ok_or_else(|| ActionError::Invalid("the saved edit is empty".into()))?;
    after["metadata"]["resourceVersion"] = Value::String(resource_version.to_string());
    if !text.status.is_empty() {
        let status: Value = serde_json::from_str(&text.status)
            .map_err(|e| invalid("status read with the", e.to_string()))?;
        after["status"] = status;
    }
    Ok((before, after))
}

fn dynamic(obj: &Value) -> Result<DynamicObject, ActionError> {
    serde_json::from_value(obj.clone())
        .map_err(|e| ActionError::Invalid(format!("the edited object cannot be sent: {e}")))
}

/// A refused replace: a 409 is the edit's object changed meanwhile.
pub(crate) fn refused(e: kube::Error, cmd: &Command) -> ActionError {
    match e {
        kube::Error::Api(status) if status.code == 409 => ActionError::Stale {
            object: cmd.object(),
            message: status.message,
        },
        other => ActionError::from_kube(other, &cmd.access()),
    }
}

/// The server-side dry run of the edit (`dryRun=All`): its validation
/// errors and conflicts come back as the real replace's would. Answers
/// the diff the confirm dialog shows.
pub(crate) async fn dry_run(client: &Client, cmd: &Command) -> Result<Vec<String>, ActionError> {
    let Command::Replace {
        object,
        resource_version,
        text,
        ..
    } = cmd
    else {
        return Err(ActionError::Invalid("not an edit".into()));
    };
    let (before, mut after) = body(resource_version, text)?;
    api(client, object)
        .replace(&object.name, &params(true), &dynamic(&after)?)
        .await
        .map_err(|e| refused(e, cmd))?;
    if let Some(map) = after.as_object_mut() {
        map.remove("status");
    }
    Ok(edit::dialog_diff(object, &before, &after))
}

/// Sends the replace; the caller maps the error (a lost answer is read
/// back).
pub(crate) async fn send(
    client: &Client,
    object: &ResourceRef,
    after: &Value,
) -> Result<Result<(), kube::Error>, ActionError> {
    let body = dynamic(after)?;
    Ok(api(client, object)
        .replace(&object.name, &params(false), &body)
        .await
        .map(drop))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(namespace: Option<&str>) -> ResourceRef {
        ResourceRef {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            plural: "configmaps".into(),
            namespace: namespace.map(Into::into),
            name: "app".into(),
        }
    }

    #[test]
    fn paths_follow_the_group_and_the_scope() {
        assert_eq!(
            path(&cm(Some("demo"))),
            "/api/v1/namespaces/demo/configmaps/app"
        );
        let crd = ResourceRef {
            group: "apiextensions.k8s.io".into(),
            kind: "CustomResourceDefinition".into(),
            plural: "customresourcedefinitions".into(),
            name: "widgets.example.com".into(),
            ..cm(None)
        };
        assert_eq!(
            path(&crd),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
        );
    }

    #[test]
    fn the_body_carries_the_version_read_and_the_status_not_shown() {
        let text = EditedText {
            original: "metadata:\n  name: app\n  resourceVersion: '7'\ndata:\n  a: '1'\n".into(),
            // The user's text says another version: the one read is sent.
            edited: "# comment\nmetadata:\n  name: app\n  resourceVersion: '99'\ndata:\n  a: '2'\n"
                .into(),
            status: r#"{"phase":"Active"}"#.into(),
        };
        let (before, after) = body("7", &text).unwrap();
        assert_eq!(before["data"]["a"], "1");
        assert_eq!(
            after,
            json!({"metadata": {"name": "app", "resourceVersion": "7"}, "data": {"a": "2"}, "status": {"phase": "Active"}})
        );
        let empty = EditedText {
            edited: "# nothing\n".into(),
            ..text
        };
        assert!(matches!(body("7", &empty), Err(ActionError::Invalid(m)) if m.contains("empty")));
    }
}
