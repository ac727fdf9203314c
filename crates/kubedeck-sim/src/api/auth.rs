//! Authentication and authorization. Anonymous mode makes everybody the
//! cluster admin; token mode knows an admin (system:masters) and a viewer
//! bound cluster-wide to the `view` ClusterRole's rules, extended to the
//! cluster-scoped kinds a console shows (nodes, storage classes...). As in
//! `view`, the viewer can read pods/log but never secrets, and can write
//! nothing. Everyone may ask what they can do (self-subject reviews) and
//! read the public endpoints (version, health, discovery). A caller allowed
//! to `impersonate` (the admin) may act as another user with the
//! `Impersonate-User`/`Impersonate-Group` headers, whose rights are then
//! the store's RBAC objects' (see `rbac`).

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use super::rbac;
use crate::config::AuthMode;
use crate::error::ApiError;
use crate::resources::{self, ResourceDef};
use crate::store::Store;

pub(super) const ADMIN_USER: &str = "kubernetes-admin";
pub(super) const VIEWER_USER: &str = "viewer";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub(crate) name: String,
    pub(crate) groups: Vec<String>,
    pub(crate) rights: Rights,
}

/// Where a user's rights come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rights {
    Admin,
    Viewer,
    /// The store's RBAC objects: an impersonated user.
    Rbac,
}

fn user(name: &str, groups: &[&str], rights: Rights) -> User {
    User {
        name: name.to_string(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        rights,
    }
}

fn admin() -> User {
    user(
        ADMIN_USER,
        &["system:masters", "system:authenticated"],
        Rights::Admin,
    )
}

fn viewer() -> User {
    user(VIEWER_USER, &["system:authenticated"], Rights::Viewer)
}

/// Paths an unauthenticated client may read, as `system:public-info-viewer`
/// allows on a real cluster.
pub(super) fn is_public(path: &str) -> bool {
    matches!(
        path.trim_end_matches('/'),
        "/version" | "/healthz" | "/livez" | "/readyz"
    ) || path.starts_with("/healthz/")
        || path.starts_with("/livez/")
        || path.starts_with("/readyz/")
}

/// Who is calling. Ok(None) means no credentials were presented; a token
/// that is presented but unknown is always a 401.
pub(super) fn authenticate(mode: &AuthMode, headers: &HeaderMap) -> Result<Option<User>, ApiError> {
    let AuthMode::Tokens {
        admin: admin_token,
        viewer: viewer_token,
    } = mode
    else {
        return Ok(Some(admin()));
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    if token == admin_token {
        Ok(Some(admin()))
    } else if token == viewer_token {
        Ok(Some(viewer()))
    } else {
        Err(ApiError::unauthorized())
    }
}

/// What a request does, in RBAC terms.
#[derive(Debug, Clone, Default)]
pub(super) struct Attrs {
    pub(crate) verb: String,
    pub(crate) group: String,
    pub(crate) resource: String,
    pub(crate) subresource: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

const READ_VERBS: &[&str] = &["get", "list", "watch"];

/// A refused impersonation: the caller, and what it tried to act as
/// (`user-info` or `serviceaccount`), which the 403 names.
#[derive(Debug)]
pub(super) struct Denied {
    caller: User,
    mode: &'static str,
}

impl Denied {
    /// The 403 for a resource request, as kube-apiserver's constrained
    /// impersonation words it: `cannot impersonate-on:user-info:list
    /// resource "pods" ...`.
    pub(super) fn on(&self, a: &Attrs) -> ApiError {
        let verb = format!("impersonate-on:{}:{}", self.mode, a.verb);
        forbidden(&self.caller, &Attrs { verb, ..a.clone() })
    }

    /// The 403 for a path outside the resources.
    pub(super) fn on_path(&self, verb: &str, path: &str) -> ApiError {
        ApiError::forbidden(format!(
            "forbidden: User \"{}\" cannot impersonate-on:{}:{verb} path \"{path}\"",
            self.caller.name, self.mode
        ))
    }
}

/// The user the caller acts as: itself, or the one its `Impersonate-User`
/// and `Impersonate-Group` headers name, once it may impersonate each (as
/// kube-apiserver checks: verb `impersonate` on users, groups, or the
/// service account). The impersonated user is authenticated too, and a
/// service account is in its groups.
pub(super) fn impersonate(
    store: &Store,
    caller: User,
    headers: &HeaderMap,
) -> Result<User, Denied> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    };
    let extra_groups = values("impersonate-group");
    let Some(name) = values("impersonate-user").into_iter().next() else {
        if extra_groups.is_empty() {
            return Ok(caller);
        }
        // Groups without a user: refused, as kube-apiserver refuses them.
        return Err(Denied {
            caller,
            mode: "user-info",
        });
    };
    let may = |resource: &str, namespace: &str, name: &str| {
        let a = Attrs {
            verb: "impersonate".into(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.into(),
            ..Attrs::default()
        };
        allowed(store, &caller, &a)
    };
    let mut groups = Vec::new();
    let (mode, ok) = match name
        .strip_prefix("system:serviceaccount:")
        .and_then(|sa| sa.split_once(':'))
    {
        Some((ns, sa)) => {
            groups.push("system:serviceaccounts".to_string());
            groups.push(format!("system:serviceaccounts:{ns}"));
            ("serviceaccount", may("serviceaccounts", ns, sa))
        }
        None => ("user-info", may("users", "", &name)),
    };
    let ok = ok && extra_groups.iter().all(|g| may("groups", "", g));
    if !ok {
        return Err(Denied { caller, mode });
    }
    groups.extend(extra_groups);
    if name != "system:anonymous" && !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".to_string());
    }
    Ok(User {
        name,
        groups,
        rights: Rights::Rbac,
    })
}

/// Resources (group, plural) the viewer's rules leave out.
pub(super) fn viewer_hidden(group: &str, resource: &str) -> bool {
    group.is_empty() && resource == "secrets"
}

pub(super) fn is_self_review(group: &str, resource: &str) -> bool {
    group == "authorization.k8s.io"
        && matches!(
            resource,
            "selfsubjectaccessreviews" | "selfsubjectrulesreviews"
        )
}

fn known(store: &Store, group: &str, resource: &str, sub: &str) -> Option<&'static ResourceDef> {
    store
        .registry()
        .all()
        .into_iter()
        .find(|r| r.group == group && r.plural == resource)
        .filter(|r| sub.is_empty() || r.has_subresource(sub))
}

pub(super) fn allowed(store: &Store, user: &User, a: &Attrs) -> bool {
    match user.rights {
        Rights::Admin => return true,
        Rights::Rbac => return rbac::allows(store, user, a).is_some(),
        Rights::Viewer => {}
    }
    if is_self_review(&a.group, &a.resource) {
        return a.verb == "create" && a.subresource.is_empty();
    }
    READ_VERBS.contains(&a.verb.as_str())
        && known(store, &a.group, &a.resource, &a.subresource).is_some()
        && !viewer_hidden(&a.group, &a.resource)
}

pub(super) fn allowed_non_resource(user: &User, verb: &str) -> bool {
    user.rights == Rights::Admin
        || user.groups.iter().any(|g| g == "system:masters")
        || verb == "get"
}

/// The 403 the real authorizer gives, e.g. `pods "x" is forbidden: User
/// "viewer" cannot delete resource "pods" in API group "" in the namespace "demo"`.
pub(super) fn forbidden(user: &User, a: &Attrs) -> ApiError {
    let resource = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let qualified = if a.group.is_empty() {
        a.resource.clone()
    } else {
        format!("{}.{}", a.resource, a.group)
    };
    let subject = if a.name.is_empty() {
        format!("{qualified} is forbidden")
    } else {
        format!("{qualified} \"{}\" is forbidden", a.name)
    };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", a.namespace)
    };
    let mut e = ApiError::forbidden(format!(
        "{subject}: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        user.name, a.verb, a.group
    ));
    let mut details = json!({"kind": a.resource});
    if !a.name.is_empty() {
        details["name"] = json!(a.name);
    }
    if !a.group.is_empty() {
        details["group"] = json!(a.group);
    }
    e.details = Some(details);
    e
}

fn reason_allowed(store: &Store, user: &User, a: &Attrs) -> String {
    match user.rights {
        // system:masters passes before RBAC is asked, so with no reason.
        Rights::Admin => String::new(),
        Rights::Viewer => format!(
            "RBAC: allowed by ClusterRoleBinding \"kubedeck-viewer\" of ClusterRole \"view\" to User \"{}\"",
            user.name
        ),
        Rights::Rbac => rbac::allows(store, user, a).unwrap_or_default(),
    }
}

/// A SelfSubjectReview (authentication.k8s.io): who the caller is.
pub(super) fn who_am_i(user: &User, version: &str) -> Value {
    json!({
        "kind": "SelfSubjectReview",
        "apiVersion": format!("authentication.k8s.io/{version}"),
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": user.name, "groups": user.groups}},
    })
}

/// Answers a SelfSubjectAccessReview for the caller.
pub(super) fn access_review(
    store: &Store,
    user: &User,
    mut review: Value,
) -> Result<Value, ApiError> {
    let spec = &review["spec"];
    let mut reason = None;
    let allowed = if let Some(ra) = spec["resourceAttributes"].as_object() {
        let field = |k: &str| ra.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let attrs = Attrs {
            verb: field("verb"),
            group: field("group"),
            resource: field("resource"),
            subresource: field("subresource"),
            namespace: field("namespace"),
            name: field("name"),
        };
        let ok = allowed(store, user, &attrs);
        if ok {
            reason = Some(reason_allowed(store, user, &attrs));
        }
        ok
    } else if let Some(nra) = spec["nonResourceAttributes"].as_object() {
        let verb = nra.get("verb").and_then(Value::as_str).unwrap_or("");
        let ok = allowed_non_resource(user, verb);
        if ok && user.rights != Rights::Rbac {
            reason = Some(reason_allowed(store, user, &Attrs::default()));
        }
        ok
    } else {
        return Err(ApiError::invalid(
            &resources::SELF_SUBJECT_ACCESS_REVIEWS,
            "",
            &[(
                "spec.resourceAttributes".into(),
                "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified".into(),
            )],
        ));
    };
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectAccessReview");
    if !review["metadata"].is_object() {
        review["metadata"] = json!({});
    }
    review["metadata"]["creationTimestamp"] = Value::Null;
    review["status"] = if allowed {
        match reason {
            Some(r) if !r.is_empty() => json!({"allowed": true, "reason": r}),
            _ => json!({"allowed": true}),
        }
    } else {
        json!({"allowed": false})
    };
    Ok(review)
}

/// Answers a SelfSubjectRulesReview: what the caller may do in a namespace.
pub(super) fn rules_review(store: &Store, user: &User, mut review: Value) -> Value {
    // What every authenticated user may do, from the bootstrap roles a
    // real cluster binds to `system:authenticated`: system:basic-user
    // (the self reviews), system:discovery and system:public-info-viewer.
    let mut resource_rules = vec![
        json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
               "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
        json!({"verbs": ["create"], "apiGroups": ["authentication.k8s.io"],
               "resources": ["selfsubjectreviews"]}),
    ];
    let mut non_resource_rules = vec![
        json!({"verbs": ["get"], "nonResourceURLs": [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
            "/openapi/*", "/readyz", "/version", "/version/"
        ]}),
        json!({"verbs": ["get"], "nonResourceURLs": [
            "/healthz", "/livez", "/readyz", "/version", "/version/"
        ]}),
    ];
    match user.rights {
        Rights::Admin => {
            resource_rules.push(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}));
            non_resource_rules.push(json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
        }
        Rights::Viewer => resource_rules.extend(rbac::view_rules()),
        Rights::Rbac => {
            let ns = review["spec"]["namespace"].as_str().unwrap_or("");
            // The basic-user rules are already listed above.
            for r in rbac::resource_rules(store, user, ns) {
                if !resource_rules.contains(&r) {
                    resource_rules.push(r);
                }
            }
        }
    }
    let (resource_rules, non_resource_rules) = (
        Value::Array(resource_rules),
        Value::Array(non_resource_rules),
    );
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["kind"] = json!("SelfSubjectRulesReview");
    if !review["metadata"].is_object() {
        review["metadata"] = json!({});
    }
    review["metadata"]["creationTimestamp"] = Value::Null;
    review["status"] = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": false,
    });
    review
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn store() -> std::sync::Arc<Store> {
        Store::new(10)
    }

    fn tokens() -> AuthMode {
        AuthMode::Tokens {
            admin: "adm".into(),
            viewer: "view".into(),
        }
    }

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    fn attrs(verb: &str, group: &str, resource: &str, sub: &str) -> Attrs {
        Attrs {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespace: "demo".into(),
            name: "x".into(),
        }
    }

    #[test]
    fn tokens_identify_admin_and_viewer_and_reject_strangers() {
        let mode = tokens();
        assert_eq!(
            authenticate(&mode, &headers("Bearer adm")).unwrap(),
            Some(admin())
        );
        assert_eq!(
            authenticate(&mode, &headers("Bearer view")).unwrap(),
            Some(viewer())
        );
        assert_eq!(
            authenticate(&mode, &headers("Bearer nope"))
                .unwrap_err()
                .code,
            401
        );
        assert_eq!(
            authenticate(&mode, &headers("Basic YTpi"))
                .unwrap_err()
                .code,
            401
        );
        assert_eq!(authenticate(&mode, &HeaderMap::new()).unwrap(), None);
        assert_eq!(
            authenticate(&AuthMode::Anonymous, &HeaderMap::new()).unwrap(),
            Some(admin())
        );
    }

    #[test]
    fn viewer_follows_the_view_role() {
        assert!(allowed(&store(), &viewer(), &attrs("list", "", "pods", "")));
        assert!(allowed(
            &store(),
            &viewer(),
            &attrs("get", "", "pods", "log")
        ));
        assert!(allowed(
            &store(),
            &viewer(),
            &attrs("watch", "apps", "deployments", "")
        ));
        assert!(!allowed(
            &store(),
            &viewer(),
            &attrs("get", "", "secrets", "")
        ));
        assert!(!allowed(
            &store(),
            &viewer(),
            &attrs("delete", "", "pods", "")
        ));
        assert!(!allowed(
            &store(),
            &viewer(),
            &attrs("create", "", "pods", "eviction")
        ));
        assert!(!allowed(
            &store(),
            &viewer(),
            &attrs("get", "", "widgets", "")
        ));
        assert!(allowed(
            &store(),
            &viewer(),
            &attrs(
                "create",
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                ""
            )
        ));
        assert!(allowed(
            &store(),
            &admin(),
            &attrs("delete", "", "secrets", "")
        ));
    }

    #[test]
    fn forbidden_message_has_kube_form() {
        let e = forbidden(&viewer(), &attrs("delete", "", "pods", ""));
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods \"x\" is forbidden: User \"viewer\" cannot delete resource \"pods\" in API group \"\" in the namespace \"demo\""
        );
        let mut a = attrs("list", "apps", "deployments", "");
        a.name.clear();
        a.namespace.clear();
        assert_eq!(
            forbidden(&viewer(), &a).message,
            "deployments.apps is forbidden: User \"viewer\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
        );
    }

    #[test]
    fn access_review_answers_for_the_caller() {
        let review = json!({"spec": {"resourceAttributes":
            {"namespace": "demo", "verb": "delete", "resource": "pods"}}});
        let as_viewer = access_review(&store(), &viewer(), review.clone()).unwrap();
        assert_eq!(as_viewer["status"]["allowed"], false);
        let as_admin = access_review(&store(), &admin(), review).unwrap();
        assert_eq!(as_admin["status"]["allowed"], true);
        assert_eq!(as_admin["kind"], "SelfSubjectAccessReview");
        assert_eq!(
            access_review(&store(), &viewer(), json!({"spec": {}}))
                .unwrap_err()
                .code,
            422
        );
    }

    #[test]
    fn viewer_rules_list_readable_resources_without_secrets() {
        let r = rules_review(&store(), &viewer(), json!({"spec": {"namespace": "demo"}}));
        let rules = r["status"]["resourceRules"].as_array().unwrap();
        let core = rules
            .iter()
            .find(|x| x["apiGroups"] == json!([""]))
            .unwrap();
        let names: Vec<&str> = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(names.contains(&"pods") && names.contains(&"pods/log"));
        assert!(!names.contains(&"secrets"));
        assert_eq!(core["verbs"], json!(["get", "list", "watch"]));
    }
}
