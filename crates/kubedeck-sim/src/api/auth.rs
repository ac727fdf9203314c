//! Authentication and authorization. Anonymous mode makes everybody the
//! cluster admin; token mode knows an admin (system:masters) and a viewer
//! bound cluster-wide to the `view` ClusterRole's rules, extended to the
//! cluster-scoped kinds a console shows (nodes, storage classes...). As in
//! `view`, the viewer can read pods/log but never secrets, and can write
//! nothing. Everyone may ask what they can do (self-subject reviews) and
//! read the public endpoints (version, health, discovery).

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use crate::config::AuthMode;
use crate::error::ApiError;
use crate::resources::{self, ResourceDef};

pub(super) const ADMIN_USER: &str = "kubernetes-admin";
pub(super) const VIEWER_USER: &str = "viewer";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    pub(crate) name: &'static str,
    pub(crate) groups: &'static [&'static str],
    pub(crate) admin: bool,
}

const ADMIN: User = User {
    name: ADMIN_USER,
    groups: &["system:masters", "system:authenticated"],
    admin: true,
};
const VIEWER: User = User {
    name: VIEWER_USER,
    groups: &["system:authenticated"],
    admin: false,
};

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
    let AuthMode::Tokens { admin, viewer } = mode else {
        return Ok(Some(ADMIN));
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
    if token == admin {
        Ok(Some(ADMIN))
    } else if token == viewer {
        Ok(Some(VIEWER))
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

/// Resources (group, plural) the viewer's rules leave out.
fn viewer_hidden(group: &str, resource: &str) -> bool {
    group.is_empty() && resource == "secrets"
}

fn is_self_review(group: &str, resource: &str) -> bool {
    group == "authorization.k8s.io"
        && matches!(
            resource,
            "selfsubjectaccessreviews" | "selfsubjectrulesreviews"
        )
}

fn known(group: &str, resource: &str, sub: &str) -> Option<&'static ResourceDef> {
    resources::ALL
        .iter()
        .copied()
        .find(|r| r.group == group && r.plural == resource)
        .filter(|r| sub.is_empty() || r.has_subresource(sub))
}

pub(super) fn allowed(user: &User, a: &Attrs) -> bool {
    if user.admin {
        return true;
    }
    if is_self_review(&a.group, &a.resource) {
        return a.verb == "create" && a.subresource.is_empty();
    }
    READ_VERBS.contains(&a.verb.as_str())
        && known(&a.group, &a.resource, &a.subresource).is_some()
        && !viewer_hidden(&a.group, &a.resource)
}

pub(super) fn allowed_non_resource(user: &User, verb: &str) -> bool {
    user.admin || verb == "get"
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

fn reason_allowed(user: &User) -> String {
    if user.admin {
        "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"".into()
    } else {
        format!(
            "RBAC: allowed by ClusterRoleBinding \"kubedeck-viewer\" of ClusterRole \"view\" to User \"{}\"",
            user.name
        )
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
pub(super) fn access_review(user: &User, mut review: Value) -> Result<Value, ApiError> {
    let spec = &review["spec"];
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
        allowed(user, &attrs)
    } else if let Some(nra) = spec["nonResourceAttributes"].as_object() {
        let verb = nra.get("verb").and_then(Value::as_str).unwrap_or("");
        allowed_non_resource(user, verb)
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
        json!({"allowed": true, "reason": reason_allowed(user)})
    } else {
        json!({"allowed": false})
    };
    Ok(review)
}

/// Answers a SelfSubjectRulesReview: what the caller may do in a namespace.
pub(super) fn rules_review(user: &User, mut review: Value) -> Value {
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
    if user.admin {
        resource_rules.push(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}));
        non_resource_rules.push(json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
    } else {
        let mut groups: Vec<&str> = Vec::new();
        for r in resources::ALL {
            if !groups.contains(&r.group) {
                groups.push(r.group);
            }
        }
        for g in groups {
            let mut names: Vec<String> = Vec::new();
            for r in resources::ALL.iter().filter(|r| r.group == g) {
                if viewer_hidden(r.group, r.plural)
                    || is_self_review(r.group, r.plural)
                    || names.iter().any(|n| n == r.plural)
                {
                    continue;
                }
                names.push(r.plural.to_string());
                for sub in r.subresources {
                    // Subresources written with POST (eviction, binding)
                    // or PUT only (finalize) have nothing to read.
                    if matches!(*sub, "status" | "scale" | "log") {
                        names.push(format!("{}/{sub}", r.plural));
                    }
                }
            }
            if !names.is_empty() {
                resource_rules
                    .push(json!({"verbs": READ_VERBS, "apiGroups": [g], "resources": names}));
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
            Some(ADMIN)
        );
        assert_eq!(
            authenticate(&mode, &headers("Bearer view")).unwrap(),
            Some(VIEWER)
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
            Some(ADMIN)
        );
    }

    #[test]
    fn viewer_follows_the_view_role() {
        assert!(allowed(&VIEWER, &attrs("list", "", "pods", "")));
        assert!(allowed(&VIEWER, &attrs("get", "", "pods", "log")));
        assert!(allowed(&VIEWER, &attrs("watch", "apps", "deployments", "")));
        assert!(!allowed(&VIEWER, &attrs("get", "", "secrets", "")));
        assert!(!allowed(&VIEWER, &attrs("delete", "", "pods", "")));
        assert!(!allowed(&VIEWER, &attrs("create", "", "pods", "eviction")));
        assert!(!allowed(&VIEWER, &attrs("get", "", "widgets", "")));
        assert!(allowed(
            &VIEWER,
            &attrs(
                "create",
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                ""
            )
        ));
        assert!(allowed(&ADMIN, &attrs("delete", "", "secrets", "")));
    }

    #[test]
    fn forbidden_message_has_kube_form() {
        let e = forbidden(&VIEWER, &attrs("delete", "", "pods", ""));
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "pods \"x\" is forbidden: User \"viewer\" cannot delete resource \"pods\" in API group \"\" in the namespace \"demo\""
        );
        let mut a = attrs("list", "apps", "deployments", "");
        a.name.clear();
        a.namespace.clear();
        assert_eq!(
            forbidden(&VIEWER, &a).message,
            "deployments.apps is forbidden: User \"viewer\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
        );
    }

    #[test]
    fn access_review_answers_for_the_caller() {
        let review = json!({"spec": {"resourceAttributes":
            {"namespace": "demo", "verb": "delete", "resource": "pods"}}});
        let as_viewer = access_review(&VIEWER, review.clone()).unwrap();
        assert_eq!(as_viewer["status"]["allowed"], false);
        let as_admin = access_review(&ADMIN, review).unwrap();
        assert_eq!(as_admin["status"]["allowed"], true);
        assert_eq!(as_admin["kind"], "SelfSubjectAccessReview");
        assert_eq!(
            access_review(&VIEWER, json!({"spec": {}}))
                .unwrap_err()
                .code,
            422
        );
    }

    #[test]
    fn viewer_rules_list_readable_resources_without_secrets() {
        let r = rules_review(&VIEWER, json!({"spec": {"namespace": "demo"}}));
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
