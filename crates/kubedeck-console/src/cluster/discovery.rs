//! The API server's resource list, for `:NAME` and `:api-resources`:
//! aggregated discovery (two requests), else the legacy documents (one per
//! group version). Fetched off the UI loop, again whenever the CRDs change;
//! `resolve` is pure.

use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition as Crd;
use kube::core::{ApiResource, PartialObjectMeta};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};

/// One resource the server serves, in its preferred version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// "" for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub namespaced: bool,
    /// Whether it can be listed and watched, which a browser needs.
    pub watchable: bool,
    /// Whether the server takes a delete of one of its objects.
    pub deletable: bool,
}

impl ResourceInfo {
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group`, or the plural for the core group: how kubectl names it.
    pub(crate) fn full_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub(crate) fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// Every name `:` takes for it, for completion.
    pub(crate) fn names(&self) -> impl Iterator<Item = String> + '_ {
        let group = (!self.group.is_empty()).then(|| self.full_name());
        [self.plural.clone(), self.singular.clone()]
            .into_iter()
            .chain(self.short_names.iter().cloned())
            .chain(group)
            .filter(|n| !n.is_empty())
    }
}

/// Resolves a name as kubectl does: a plural, singular, short name or kind
/// (any case), optionally qualified with its group (`deployments.apps`) or
/// version and group (`deployments.v1.apps`). Where groups share a name,
/// the core group wins, then the first group the server listed.
pub(crate) fn resolve<'a>(resources: &'a [ResourceInfo], name: &str) -> Option<&'a ResourceInfo> {
    let name = name.to_ascii_lowercase();
    let matches = |r: &ResourceInfo, n: &str| {
        r.plural == n
            || r.singular == n
            || r.kind.eq_ignore_ascii_case(n)
            || r.short_names.iter().any(|s| s == n)
    };
    let unqualified = resources
        .iter()
        .filter(|r| matches(r, &name))
        .min_by_key(|r| !r.group.is_empty());
    if unqualified.is_some() {
        return unqualified;
    }
    // Qualified: the name before the first dot, the group (or version.group) after.
    let (head, rest) = name.split_once('.')?;
    resources.iter().find(|r| {
        matches(r, head) && (rest == r.group || rest == format!("{}.{}", r.version, r.group))
    })
}

/// Fetches the list: aggregated discovery, or the legacy documents when
/// the server does not serve it (an older one answers the aggregated
/// request with a legacy document, which reads as an empty list).
pub async fn fetch(client: Client) -> Result<Vec<ResourceInfo>, String> {
    match aggregated(&client).await {
        Ok(list) if !list.is_empty() => Ok(list),
        Ok(_) | Err(_) => legacy(&client).await.map_err(|e| e.to_string()),
    }
}

async fn aggregated(client: &Client) -> kube::Result<Vec<ResourceInfo>> {
    let core = client.list_core_api_versions_aggregated().await?;
    let groups = client.list_api_groups_aggregated().await?;
    let mut out = Vec::new();
    for g in core.items.into_iter().chain(groups.items) {
        let group = g.metadata.and_then(|m| m.name).unwrap_or_default();
        // Versions come in the server's order of preference.
        let Some(v) = g.versions.into_iter().next() else {
            continue;
        };
        let version = v.version.unwrap_or_default();
        for r in v.resources {
            let Some(plural) = r.resource.filter(|p| !p.contains('/')) else {
                continue;
            };
            out.push(ResourceInfo {
                group: group.clone(),
                version: version.clone(),
                kind: r.response_kind.and_then(|k| k.kind).unwrap_or_default(),
                singular: r.singular_resource.unwrap_or_default(),
                plural,
                short_names: r.short_names,
                namespaced: r.scope.as_deref() == Some("Namespaced"),
                watchable: has_list_watch(&r.verbs),
                deletable: r.verbs.iter().any(|v| v == "delete"),
            });
        }
    }
    Ok(out)
}

async fn legacy(client: &Client) -> kube::Result<Vec<ResourceInfo>> {
    let mut lists = vec![("".to_string(), client.list_core_api_resources("v1").await?)];
    for g in client.list_api_groups().await?.groups {
        let Some(preferred) = g
            .preferred_version
            .or_else(|| g.versions.into_iter().next())
        else {
            continue;
        };
        // A group whose list fails (an aggregated API that is down) is left out.
        match client
            .list_api_group_resources(&preferred.group_version)
            .await
        {
            Ok(list) => lists.push((g.name, list)),
            Err(e) => tracing::info!("discovery of {} failed: {e}", preferred.group_version),
        }
    }
    let mut out = Vec::new();
    for (group, list) in lists {
        let version = list
            .group_version
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        for r in list.resources.into_iter().filter(|r| !r.name.contains('/')) {
            out.push(ResourceInfo {
                group: group.clone(),
                version: version.clone(),
                watchable: has_list_watch(&r.verbs),
                deletable: r.verbs.iter().any(|v| v == "delete"),
                kind: r.kind,
                plural: r.name,
                singular: r.singular_name,
                short_names: r.short_names.unwrap_or_default(),
                namespaced: r.namespaced,
            });
        }
    }
    Ok(out)
}

fn has_list_watch(verbs: &[String]) -> bool {
    ["list", "watch"]
        .iter()
        .all(|v| verbs.iter().any(|have| have == v))
}

/// Says when the server's list of resources may have changed: a CRD
/// created, changed (it serves its kinds once established) or deleted, or
/// the CRDs relisted after a broken watch. Watched by metadata only, so a
/// new custom kind shows with no key pressed and nothing is polled.
pub(crate) struct CrdChanges {
    stream: BoxStream<'static, watcher::Result<watcher::Event<PartialObjectMeta<Crd>>>>,
    listed: bool,
}

impl CrdChanges {
    pub(crate) fn new(client: Client) -> Self {
        let api = Api::<PartialObjectMeta<Crd>>::all(client);
        let stream = watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed();
        CrdChanges {
            stream,
            listed: false,
        }
    }

    /// The next change, with every change already queued behind it; None
    /// once the CRDs cannot be watched (the list then stays as read). After
    /// a failed read, the CRDs' first list counts too: the server answers.
    pub(crate) async fn next(&mut self, read_failed: bool) -> Option<()> {
        if read_failed {
            self.listed = true;
        }
        loop {
            match self.stream.next().await? {
                Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => break,
                // The first list is what the first read saw; a later one
                // follows a broken watch, and anything may have changed.
                Ok(watcher::Event::InitDone) if self.listed => break,
                Ok(watcher::Event::InitDone) => self.listed = true,
                Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => {}
                Err(e) if forbidden(&e) => {
                    tracing::info!(
                        "CRDs cannot be watched ({e}): new custom kinds show after a restart"
                    );
                    return None;
                }
                // The back-off paces the retries.
                Err(e) => tracing::debug!("watch of CRDs: {e}"),
            }
        }
        while let Some(Some(_)) = self.stream.next().now_or_never() {}
        Some(())
    }
}

fn forbidden(e: &watcher::Error) -> bool {
    let code = match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s))
        | watcher::Error::WatchError(s) => s.code,
        _ => return false,
    };
    matches!(code, 401 | 403)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn info(group: &str, kind: &str, plural: &str, short: &[&str]) -> ResourceInfo {
        ResourceInfo {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            short_names: short.iter().map(|s| s.to_string()).collect(),
            namespaced: true,
            watchable: true,
            deletable: true,
        }
    }

    pub(crate) fn sample() -> Vec<ResourceInfo> {
        vec![
            info("", "ConfigMap", "configmaps", &["cm"]),
            info("", "Event", "events", &["ev"]),
            info(
                "",
                "PersistentVolumeClaim",
                "persistentvolumeclaims",
                &["pvc"],
            ),
            info("", "Secret", "secrets", &[]),
            info("apps", "Deployment", "deployments", &["deploy"]),
            info("apps", "ReplicaSet", "replicasets", &["rs"]),
            info("events.k8s.io", "Event", "events", &[]),
            info("networking.k8s.io", "Ingress", "ingresses", &["ing"]),
            info(
                "policy",
                "PodDisruptionBudget",
                "poddisruptionbudgets",
                &["pdb"],
            ),
            info("stable.example.com", "CronTab", "crontabs", &["ct"]),
        ]
    }

    fn full(name: &str) -> Option<String> {
        resolve(&sample(), name).map(ResourceInfo::full_name)
    }

    #[test]
    fn plural_singular_short_kind_and_qualified_names_resolve_as_kubectl_does() {
        for (name, want) in [
            ("deploy", "deployments.apps"),
            ("deployment", "deployments.apps"),
            ("Deployment", "deployments.apps"),
            ("deployments.apps", "deployments.apps"),
            ("deployments.v1.apps", "deployments.apps"),
            ("ing", "ingresses.networking.k8s.io"),
            ("pvc", "persistentvolumeclaims"),
            ("pdb", "poddisruptionbudgets.policy"),
            ("rs", "replicasets.apps"),
            ("cm", "configmaps"),
            ("secret", "secrets"),
            ("crontabs.stable.example.com", "crontabs.stable.example.com"),
            ("ct", "crontabs.stable.example.com"),
        ] {
            assert_eq!(full(name).as_deref(), Some(want), "{name}");
        }
    }

    #[test]
    fn the_core_group_wins_a_shared_name_and_a_group_picks_the_other() {
        assert_eq!(full("events").as_deref(), Some("events"));
        assert_eq!(
            full("events.events.k8s.io").as_deref(),
            Some("events.events.k8s.io")
        );
    }

    #[test]
    fn unknown_names_and_wrong_groups_resolve_to_nothing() {
        assert_eq!(full("pdos"), None);
        assert_eq!(full("deployments.policy"), None);
        assert_eq!(full(""), None);
        assert_eq!(full("."), None);
    }
}
