//! May the user take an action? Asked with a SelfSubjectAccessReview before
//! the action is offered, and cached per (verb, group, resource,
//! subresource, namespace) for a while, as the answer rarely changes.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Client;
use kube::api::{Api, PostParams};

use super::command::{Access, Command};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    Allowed,
    /// Why not, for the console to show next to the unavailable action.
    Denied(String),
}

type Key = (
    &'static str,
    Cow<'static, str>,
    Cow<'static, str>,
    &'static str,
    String,
);

pub struct Rbac {
    client: Client,
    ttl: Duration,
    cache: Mutex<HashMap<Key, (Instant, Permission)>>,
}

impl Rbac {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

    pub fn new(client: Client, ttl: Duration) -> Rbac {
        Rbac {
            client,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the user may run `cmd` (every permission it needs), from the
    /// cache when fresh.
    pub async fn can(&self, cmd: &Command) -> Permission {
        for access in cmd.accesses() {
            if let denied @ Permission::Denied(_) = self.can_access(&access).await {
                return denied;
            }
        }
        Permission::Allowed
    }

    pub(crate) async fn can_access(&self, access: &Access) -> Permission {
        // Per namespace, not per object: that is the granularity RBAC roles
        // are usually written at, and it keeps the cache small.
        let key: Key = (
            access.verb,
            access.group.clone(),
            access.resource.clone(),
            access.subresource,
            access.namespace.clone(),
        );
        if let Some(p) = self.cached(&key) {
            return p;
        }
        match self.review(access).await {
            Ok(p) => {
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                cache.insert(key, (Instant::now(), p.clone()));
                p
            }
            // Not cached: the next offer asks again.
            Err(e) => Permission::Denied(format!(
                "could not check whether you may {}: {e}",
                access.describe()
            )),
        }
    }

    fn cached(&self, key: &Key) -> Option<Permission> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, p)| p.clone())
    }

    /// Forgets every answer, e.g. after switching credentials.
    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub(crate) async fn review(&self, access: &Access) -> Result<Permission, kube::Error> {
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(access.verb.to_string()),
                    group: Some(access.group.to_string()),
                    resource: Some(access.resource.to_string()),
                    subresource: non_empty(access.subresource),
                    namespace: non_empty(&access.namespace),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let answer = api.create(&PostParams::default(), &review).await?;
        let status = answer.status.unwrap_or_default();
        if status.allowed && status.denied != Some(true) {
            return Ok(Permission::Allowed);
        }
        let mut reason = format!("RBAC does not let you {}", access.describe());
        for extra in [status.reason, status.evaluation_error]
            .into_iter()
            .flatten()
        {
            if !extra.is_empty() {
                reason.push_str(&format!(" ({extra})"));
            }
        }
        Ok(Permission::Denied(reason))
    }
}
