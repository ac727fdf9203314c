//! A pod's YAML pane shows the full object, which the cache does not hold
//! (it keeps a projection, see `cluster::slim_pod`): the pane opens on the
//! projection with a loading note, and the full pod, fetched from the API,
//! replaces it when it arrives.

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};

use super::state::AppState;
use super::update::{Effect, Msg, Outcome};
use super::views::describe::{self, TextPane};

/// The last line of a pane still waiting for its full pod.
pub const LOADING: &str = "# loading… (the full pod from the API)";

/// Which pod a YAML pane waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRef {
    pub namespace: String,
    pub name: String,
}

/// Marks a freshly opened YAML pane of a pod as loading; the effect fetches
/// the full object.
pub fn start(pane: &mut TextPane, namespace: &str, name: &str) -> Effect {
    let pod = PodRef {
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    pane.lines.push(LOADING.into());
    pane.loading = Some(pod.clone());
    Effect::LoadPod(pod)
}

/// Reads the pod from the API; the answer for `on_loaded`.
pub async fn fetch(client: Client, pod: PodRef) -> Msg {
    let api: Api<Pod> = Api::namespaced(client, &pod.namespace);
    let result = match api.get(&pod.name).await {
        Ok(full) => super::views::as_json(&full).ok_or_else(|| "cannot encode the pod".into()),
        Err(e) => Err(e.to_string()),
    };
    Msg::PodLoaded { pod, result }
}

/// Puts the full pod into every pane waiting for it; on failure the pane
/// keeps the cached fields and says why the rest is missing.
pub fn on_loaded(
    state: &mut AppState,
    pod: PodRef,
    result: Result<serde_json::Value, String>,
) -> Outcome {
    let page = state.page;
    let mut changed = false;
    for pane in state.stack.iter_mut().filter_map(|s| s.text.as_mut()) {
        if pane.loading.as_ref() != Some(&pod) {
            continue;
        }
        pane.loading = None;
        match &result {
            Ok(obj) => pane.lines = describe::yaml(obj),
            Err(e) => {
                pane.lines.pop();
                pane.lines.push(format!(
                    "# only the cached fields: cannot read the pod: {e}"
                ));
            }
        }
        pane.scroll = pane.scroll.min(pane.lines.len().saturating_sub(page + 1));
        changed = true;
    }
    Outcome {
        redraw: changed,
        effects: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::cluster::{Kind, watch::WatchMsg};
    use crate::console::input::action::View;
    use crate::console::input::keymap::Keymap;
    use crate::console::state::Screen;
    use crate::console::test_support::{cluster, now};
    use crate::console::update::update;
    use crate::console::views::Query;

    fn open_yaml(state: &mut AppState) -> Outcome {
        let cache = cluster();
        let keymap = Keymap::built_in_default();
        state.stack = vec![Screen::new(View::Pods, Query::default(), "pods")];
        update(state, Msg::Resize(12), &cache, &keymap, now());
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

    fn api_pod() -> PodRef {
        PodRef {
            namespace: "shop".into(),
            name: "api-5f6b7c8d9f-abcde".into(),
        }
    }

    #[test]
    fn a_pods_yaml_shows_the_cache_then_the_full_object_from_the_api() {
        let mut state = AppState::new("test", None, false);
        let out = open_yaml(&mut state);
        assert_eq!(out.effects, vec![Effect::LoadPod(api_pod())]);
        let pane = state.screen().text.clone().expect("a YAML pane");
        assert_eq!(pane.lines.last().map(String::as_str), Some(LOADING));

        let full = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "api-5f6b7c8d9f-abcde", "namespace": "shop"},
            "spec": {"restartPolicy": "Always", "containers": [{"name": "api"}]}});
        let out = on_loaded(&mut state, api_pod(), Ok(full));
        assert!(out.redraw);
        let pane = state.screen().text.clone().expect("a YAML pane");
        assert!(pane.lines.iter().any(|l| l == "  restartPolicy: Always"));
        assert!(!pane.lines.iter().any(|l| l == LOADING));

        let again = on_loaded(&mut state, api_pod(), Err("late".into()));
        assert!(!again.redraw, "a loaded pane takes no second answer");
    }

    #[test]
    fn a_failed_load_keeps_the_cached_fields_and_says_why() {
        let mut state = AppState::new("test", None, false);
        open_yaml(&mut state);
        on_loaded(&mut state, api_pod(), Err("pods \"x\" is forbidden".into()));
        let pane = state.screen().text.clone().expect("a YAML pane");
        assert_eq!(pane.lines[..2], ["apiVersion: v1", "kind: Pod"]);
        assert_eq!(
            pane.lines.last().map(String::as_str),
            Some("# only the cached fields: cannot read the pod: pods \"x\" is forbidden")
        );
    }
}
