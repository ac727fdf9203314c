//! A YAML pane shows the full object, which the cache does not hold for
//! pods and events (it keeps projections, see `cluster::slim_pod` and
//! `cluster::slim_event`): the pane opens on the projection with a loading
//! note, and the full object, fetched from the API, replaces it when it
//! arrives. The generic view's objects are kept as metadata only, so their
//! YAML is fetched too; a Secret's values are replaced before the object
//! leaves the fetch.

use k8s_openapi::api::core::v1::{Event, Pod};
use kube::core::DynamicObject;
use kube::{Api, Client};

use super::cluster::discovery::ResourceInfo;

use super::state::{AppState, Body};
use super::update::{Effect, Msg, Updated};
use super::views::describe::{self, TextPane};

/// The kinds the cache keeps only in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projected {
    Pod,
    Event,
    /// An object of the generic view (`FullRef::resource` says which resource).
    Resource,
}

impl Projected {
    /// The projected kind of an object's `kind`, if it is one.
    pub(crate) fn of(kind: &str) -> Option<Self> {
        match kind {
            "Pod" => Some(Self::Pod),
            "Event" => Some(Self::Event),
            _ => None,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::Pod => "pod",
            Self::Event => "event",
            Self::Resource => "object",
        }
    }
}

/// The last line of a pane still waiting for its full object.
pub(crate) fn loading_line(kind: Projected) -> String {
    format!("# loading… (the full {} from the API)", kind.word())
}

/// Which object a YAML pane waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullRef {
    pub(crate) kind: Projected,
    pub(crate) namespace: String,
    pub(crate) name: String,
    /// The resource, for `Projected::Resource`.
    pub(crate) resource: Option<std::sync::Arc<ResourceInfo>>,
}

/// Marks a freshly opened YAML pane of a projected object as loading; the
/// effect fetches the full object.
pub(crate) fn start(
    pane: &mut TextPane,
    kind: Projected,
    namespace: &str,
    name: &str,
    resource: Option<std::sync::Arc<ResourceInfo>>,
) -> Effect {
    let target = FullRef {
        kind,
        namespace: namespace.to_string(),
        name: name.to_string(),
        resource,
    };
    pane.lines.push(loading_line(kind));
    pane.loading = Some(target.clone());
    Effect::LoadFull(target)
}

/// Reads the object from the API; the answer for `on_loaded`.
pub(crate) async fn fetch(client: Client, target: FullRef) -> Msg {
    let result = match target.kind {
        Projected::Pod => get::<Pod>(client, &target).await,
        Projected::Event => get::<Event>(client, &target).await,
        Projected::Resource => get_dynamic(client, &target).await,
    };
    Msg::FullLoaded { target, result }
}

async fn get_dynamic(client: Client, target: &FullRef) -> Result<serde_json::Value, String> {
    let resource = target
        .resource
        .as_ref()
        .ok_or("no resource to read the object from")?;
    let ar = resource.api_resource();
    let api: Api<DynamicObject> = if resource.namespaced {
        Api::namespaced_with(client, &target.namespace, &ar)
    } else {
        Api::all_with(client, &ar)
    };
    let full = api.get(&target.name).await.map_err(|e| e.to_string())?;
    let mut v = super::views::as_json(&full).ok_or("cannot encode the object")?;
    hide_values(&mut v, resource);
    Ok(v)
}

/// Replaces a Secret's values (and the last-applied annotation, which
/// copies them) by their sizes: kubedeck never shows or keeps a value.
pub(crate) fn hide_values(obj: &mut serde_json::Value, resource: &ResourceInfo) {
    // `get_mut`, not indexing: indexing a missing field would add it as null.
    if let Some(a) = obj
        .pointer_mut("/metadata/annotations")
        .and_then(|a| a.as_object_mut())
    {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    if !(resource.group.is_empty() && resource.plural == "secrets") {
        return;
    }
    for field in ["data", "stringData"] {
        if let Some(map) = obj.get_mut(field).and_then(|m| m.as_object_mut()) {
            for v in map.values_mut() {
                let text = v.as_str().unwrap_or("");
                // `data` is base64: four characters for three bytes, less the padding.
                let bytes = if field == "data" {
                    (text.len() / 4 * 3)
                        .saturating_sub(text.bytes().rev().take_while(|b| *b == b'=').count())
                } else {
                    text.len()
                };
                *v = serde_json::Value::String(format!("<hidden, {bytes} bytes>"));
            }
        }
    }
}

async fn get<K>(client: Client, target: &FullRef) -> Result<serde_json::Value, String>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + serde::Serialize
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client, &target.namespace);
    match api.get(&target.name).await {
        Ok(full) => super::views::as_json(&full)
            .ok_or_else(|| format!("cannot encode the {}", target.kind.word())),
        Err(e) => Err(e.to_string()),
    }
}

/// A ConfigMap's or Secret's data as `kubectl describe` lays it out: each
/// key, then its value whole, line by line (a Secret's arrive as sizes,
/// `hide_values` having replaced them; binary data as sizes too).
pub(crate) fn data_lines(obj: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = obj["type"].as_str() {
        out.push(format!("Type:         {t}"));
    }
    for (field, heading) in [
        ("data", "Data"),
        ("stringData", "StringData"),
        ("binaryData", "BinaryData"),
    ] {
        let Some(map) = obj[field].as_object().filter(|m| !m.is_empty()) else {
            continue;
        };
        out.push(String::new());
        out.push(heading.to_string());
        out.push("=".repeat(heading.len()));
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        for key in keys {
            let value = map[key].as_str().unwrap_or("");
            if value.starts_with("<hidden, ") {
                out.push(format!("{key}:  {value}"));
            } else if field == "binaryData" {
                out.push(format!("{key}:  {} bytes (base64)", value.len() / 4 * 3));
            } else {
                out.push(format!("{key}:"));
                out.push("----".to_string());
                out.extend(
                    value
                        .lines()
                        .map(|l| kubedeck_core::terminal::safe(l).into_owned()),
                );
                out.push(String::new());
            }
        }
    }
    if out.is_empty() {
        out.push("Data: none".to_string());
    }
    out
}

/// Puts the full object into every pane waiting for it; on failure the pane
/// keeps the cached fields and says why the rest is missing.
pub(crate) fn on_loaded(
    state: &mut AppState,
    target: FullRef,
    result: Result<serde_json::Value, String>,
) -> Updated {
    let page = state.page;
    let mut changed = false;
    for pane in state.stack.iter_mut().filter_map(|s| match &mut s.body {
        Body::Text(pane) => Some(pane),
        _ => None,
    }) {
        if pane.loading.as_ref() != Some(&target) {
            continue;
        }
        pane.loading = None;
        match &result {
            // A describe keeps what it said and adds the data by key, in
            // its tail, which describing again keeps.
            Ok(obj) if pane.title.starts_with("describe") => {
                let keep = pane.lines.len().saturating_sub(pane.tail.len());
                pane.lines.truncate(keep);
                pane.tail = data_lines(obj);
                pane.lines.extend(pane.tail.iter().cloned());
            }
            Ok(obj) => pane.lines = describe::yaml(obj),
            Err(e) => {
                pane.lines.pop();
                pane.lines.push(format!(
                    "# only the cached fields: cannot read the {}: {e}",
                    target.kind.word()
                ));
                if !pane.tail.is_empty() {
                    pane.tail = pane.lines.last().cloned().into_iter().collect();
                }
            }
        }
        pane.scroll = pane.scroll.min(pane.lines.len().saturating_sub(page + 1));
        changed = true;
    }
    Updated {
        redraw: changed,
        effects: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_reads_by_key_with_values_whole_and_secrets_as_sizes() {
        let cm = serde_json::json!({
            "data": {"b.conf": "x = 1\ny = 2", "a": "one"},
            "binaryData": {"blob": "AAAAAAAA"}
        });
        assert_eq!(
            data_lines(&cm),
            [
                "",
                "Data",
                "====",
                "a:",
                "----",
                "one",
                "",
                "b.conf:",
                "----",
                "x = 1",
                "y = 2",
                "",
                "",
                "BinaryData",
                "==========",
                "blob:  6 bytes (base64)"
            ]
        );
        let mut secret = serde_json::json!({
            "type": "Opaque",
            "data": {"password": "c2ltLW5vdC1hLXJlYWwtcGFzc3dvcmQ="}
        });
        let resource = crate::cluster::discovery::tests::sample()
            .into_iter()
            .find(|r| r.plural == "secrets")
            .expect("secrets");
        hide_values(&mut secret, &resource);
        let lines = data_lines(&secret);
        assert_eq!(
            lines,
            [
                "Type:         Opaque",
                "",
                "Data",
                "====",
                "password:  <hidden, 23 bytes>"
            ]
        );
        assert!(!lines.concat().contains("c2lt"));
    }
    use crate::cluster::{Kind, watch::WatchMsg};
    use crate::input::action::View;
    use crate::input::keymap::Keymap;
    use crate::state::Screen;
    use crate::test_support::{cluster, now, resize};
    use crate::update::update;
    use crate::views::Query;

    fn open_yaml(state: &mut AppState) -> Updated {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        state.stack = vec![Screen::new(View::Pods, Query::default(), "pods")];
        update(state, resize(12), &cache, &keymap, now());
        let synced = Msg::Watch(WatchMsg::Synced(Kind::Pod));
        update(state, synced, &cache, &keymap, now());
        let at = state
            .screen()
            .rows
            .iter()
            .position(|k| k.1 == "api-5f6b7c8d9f-abcde")
            .expect("the pod is listed");
        state.screen_mut().selected = at;
        let y = Msg::Key("y".parse().expect("test key parses"));
        update(state, y, &cache, &keymap, now())
    }

    fn api_pod() -> FullRef {
        FullRef {
            kind: Projected::Pod,
            namespace: "shop".into(),
            name: "api-5f6b7c8d9f-abcde".into(),
            resource: None,
        }
    }

    #[test]
    fn a_pods_yaml_shows_the_cache_then_the_full_object_from_the_api() {
        let mut state = AppState::new("test", None, false);
        let out = open_yaml(&mut state);
        assert_eq!(out.effects, vec![Effect::LoadFull(api_pod())]);
        let pane = state.screen().text().cloned().expect("a YAML pane");
        assert_eq!(
            pane.lines.last().map(String::as_str),
            Some(loading_line(Projected::Pod).as_str())
        );

        let full = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "api-5f6b7c8d9f-abcde", "namespace": "shop"},
            "spec": {"restartPolicy": "Always", "containers": [{"name": "api"}]}});
        let out = on_loaded(&mut state, api_pod(), Ok(full));
        assert!(out.redraw);
        let pane = state.screen().text().cloned().expect("a YAML pane");
        assert!(pane.lines.iter().any(|l| l == "  restartPolicy: Always"));
        assert!(
            !pane
                .lines
                .iter()
                .any(|l| *l == loading_line(Projected::Pod))
        );

        let again = on_loaded(&mut state, api_pod(), Err("late".into()));
        assert!(!again.redraw, "a loaded pane takes no second answer");
    }

    #[test]
    fn a_failed_load_keeps_the_cached_fields_and_says_why() {
        let mut state = AppState::new("test", None, false);
        open_yaml(&mut state);
        on_loaded(&mut state, api_pod(), Err("pods \"x\" is forbidden".into()));
        let pane = state.screen().text().cloned().expect("a YAML pane");
        assert_eq!(pane.lines[..2], ["apiVersion: v1", "kind: Pod"]);
        assert_eq!(
            pane.lines.last().map(String::as_str),
            Some("# only the cached fields: cannot read the pod: pods \"x\" is forbidden")
        );
    }

    #[test]
    fn an_events_yaml_shows_the_cache_then_the_full_event_from_the_api() {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        let mut state = AppState::new("test", None, false);
        state.stack = vec![Screen::new(View::Events, Query::default(), "events")];
        update(&mut state, resize(12), &cache, &keymap, now());
        let synced = Msg::Watch(WatchMsg::Synced(Kind::Event));
        update(&mut state, synced, &cache, &keymap, now());
        let key = state.screen().rows[0].clone();
        let y = Msg::Key("y".parse().expect("test key parses"));
        let out = update(&mut state, y, &cache, &keymap, now());
        let target = FullRef {
            kind: Projected::Event,
            namespace: key.0.clone(),
            name: key.1.clone(),
            resource: None,
        };
        assert_eq!(out.effects, vec![Effect::LoadFull(target.clone())]);
        let pane = state.screen().text().cloned().expect("a YAML pane");
        assert!(pane.lines.iter().any(|l| l == "kind: Event"));
        assert!(
            pane.lines.iter().any(|l| l == "  kind: Pod"),
            "the involved object"
        );
        assert_eq!(
            pane.lines.last().map(String::as_str),
            Some("# loading… (the full event from the API)")
        );

        let full = serde_json::json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": key.1, "namespace": key.0},
            "source": {"component": "kubelet", "host": "node-a"}});
        assert!(on_loaded(&mut state, target, Ok(full)).redraw);
        let pane = state.screen().text().cloned().expect("a YAML pane");
        assert!(pane.lines.iter().any(|l| l == "  component: kubelet"));
        assert!(!pane.lines.iter().any(|l| l.starts_with("# loading")));
    }

    #[test]
    fn a_secrets_values_are_replaced_by_their_sizes_and_other_kinds_keep_theirs() {
        let resources = crate::cluster::discovery::tests::sample();
        let of = |plural: &str| {
            resources
                .iter()
                .find(|r| r.plural == plural)
                .expect("in the sample")
        };
        let obj = serde_json::json!({"kind": "Secret",
            "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"p\":\"aHVudGVyMg==\"}}", "team": "db"}},
            "data": {"p": "aHVudGVyMg=="}, "stringData": {"q": "hunter2"}});
        let mut secret = obj.clone();
        hide_values(&mut secret, of("secrets"));
        let text = serde_json::to_string(&secret).expect("json");
        assert!(
            !text.contains("aHVudGVyMg") && !text.contains("hunter2"),
            "{text}"
        );
        assert_eq!(secret["data"]["p"], "<hidden, 7 bytes>");
        assert_eq!(secret["stringData"]["q"], "<hidden, 7 bytes>");
        assert_eq!(secret["metadata"]["annotations"]["team"], "db");

        let mut config = obj;
        hide_values(&mut config, of("configmaps"));
        assert_eq!(config["data"]["p"], "aHVudGVyMg==");

        // Fields the object lacks stay absent, not null.
        let mut bare = serde_json::json!({"kind": "Secret", "metadata": {"name": "x"}, "data": {}});
        hide_values(&mut bare, of("secrets"));
        assert_eq!(
            bare,
            serde_json::json!({"kind": "Secret", "metadata": {"name": "x"}, "data": {}})
        );
    }
}
