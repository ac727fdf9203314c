//! RBAC over the store's Roles, ClusterRoles and their bindings, for the
//! identities the simulator has no built-in rules for (impersonated ones),
//! matched as kube-apiserver's RBAC authorizer matches them. The bootstrap
//! bindings a real cluster has without any stored object are built in:
//! `system:masters` is cluster-admin, and every authenticated user is a
//! `system:basic-user` (the self reviews). A binding to `cluster-admin` or
//! `view` that the store has no ClusterRole for gets the bootstrap role.

use kubedeck_kube::selector::LabelSelector;
use serde_json::{Value, json};

use super::auth::{Attrs, User};
use crate::resources;
use crate::store::Store;

const AUTHENTICATED: &str = "system:authenticated";

/// The rules bound to every authenticated user (system:basic-user).
fn basic_user_rules() -> Vec<Value> {
    vec![
        json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
               "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
        json!({"verbs": ["create"], "apiGroups": ["authentication.k8s.io"],
               "resources": ["selfsubjectreviews"]}),
    ]
}

fn cluster_admin_rules() -> Vec<Value> {
    vec![
        json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
        json!({"verbs": ["*"], "nonResourceURLs": ["*"]}),
    ]
}

/// The built-in viewer's rules: read everything served but secrets.
pub(super) fn view_rules() -> Vec<Value> {
    let mut groups: Vec<&str> = Vec::new();
    for r in resources::ALL {
        if !groups.contains(&r.group) {
            groups.push(r.group);
        }
    }
    let mut rules = Vec::new();
    for g in groups {
        let mut names: Vec<String> = Vec::new();
        for r in resources::ALL.iter().filter(|r| r.group == g) {
            if super::auth::viewer_hidden(r.group, r.plural)
                || super::auth::is_self_review(r.group, r.plural)
                || names.iter().any(|n| n == r.plural)
            {
                continue;
            }
            names.push(r.plural.to_string());
            for sub in r.subresources {
                // Subresources written with POST (eviction, binding) or PUT
                // only (finalize) have nothing to read.
                if matches!(*sub, "status" | "scale" | "log") {
                    names.push(format!("{}/{sub}", r.plural));
                }
            }
        }
        if !names.is_empty() {
            rules.push(
                json!({"verbs": ["get", "list", "watch"], "apiGroups": [g], "resources": names}),
            );
        }
    }
    rules
}

/// A binding that applies to the user, with the rules of its role and how
/// the authorizer names it in a reason.
struct Grant {
    rules: Vec<Value>,
    source: String,
}

fn str_list(v: &Value) -> impl Iterator<Item = &str> {
    v.as_array().into_iter().flatten().filter_map(Value::as_str)
}

/// Whether a binding subject is the user; a ServiceAccount subject without
/// a namespace means the RoleBinding's own.
fn subject_is(subject: &Value, user: &User, binding_ns: &str) -> Option<String> {
    let name = subject["name"].as_str().unwrap_or("");
    match subject["kind"].as_str() {
        Some("User") if user.name == name => Some(format!("User {name:?}")),
        Some("Group") if user.groups.iter().any(|g| g == name) => Some(format!("Group {name:?}")),
        Some("ServiceAccount") => {
            let ns = subject["namespace"]
                .as_str()
                .filter(|s| !s.is_empty())
                .unwrap_or(binding_ns);
            (user.name == format!("system:serviceaccount:{ns}:{name}"))
                .then(|| format!("ServiceAccount \"{name}/{ns}\""))
        }
        _ => None,
    }
}

/// A ClusterRole's rules, with those of the roles it aggregates.
fn cluster_role_rules(store: &Store, name: &str) -> Vec<Value> {
    let Some(role) = store.get(&resources::CLUSTER_ROLES, "", name) else {
        return match name {
            "cluster-admin" => cluster_admin_rules(),
            "view" => view_rules(),
            _ => Vec::new(),
        };
    };
    let mut rules: Vec<Value> = role["rules"].as_array().cloned().unwrap_or_default();
    let selectors: Vec<LabelSelector> = role["aggregationRule"]["clusterRoleSelectors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| LabelSelector::from_object(s).ok())
        .collect();
    if !selectors.is_empty() {
        for other in store.list(&resources::CLUSTER_ROLES, None) {
            let labels = &other["metadata"]["labels"];
            if other["metadata"]["name"] != name && selectors.iter().any(|s| s.matches(labels)) {
                rules.extend(other["rules"].as_array().cloned().unwrap_or_default());
            }
        }
    }
    rules
}

/// Every grant the user has in `ns` ("" for cluster-wide only).
fn grants(store: &Store, user: &User, ns: &str) -> Vec<Grant> {
    let mut out = Vec::new();
    if user.groups.iter().any(|g| g == "system:masters") {
        out.push(Grant {
            rules: cluster_admin_rules(),
            source: "ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\"".into(),
        });
    }
    if user.groups.iter().any(|g| g == AUTHENTICATED) {
        out.push(Grant {
            rules: basic_user_rules(),
            source: "ClusterRoleBinding \"system:basic-user\" of ClusterRole \"system:basic-user\" to Group \"system:authenticated\"".into(),
        });
    }
    let bindings = store
        .list(&resources::CLUSTER_ROLE_BINDINGS, None)
        .into_iter()
        .map(|b| (b, &resources::CLUSTER_ROLE_BINDINGS))
        .chain(
            (!ns.is_empty())
                .then(|| store.list(&resources::ROLE_BINDINGS, Some(ns)))
                .into_iter()
                .flatten()
                .map(|b| (b, &resources::ROLE_BINDINGS)),
        );
    for (b, kind) in bindings {
        let b_ns = b["metadata"]["namespace"].as_str().unwrap_or("");
        let Some(who) = b["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|s| subject_is(s, user, b_ns))
        else {
            continue;
        };
        let role = b["roleRef"]["name"].as_str().unwrap_or("");
        let role_kind = b["roleRef"]["kind"].as_str().unwrap_or("");
        let rules = if role_kind == "Role" {
            store
                .get(&resources::ROLES, b_ns, role)
                .and_then(|r| r["rules"].as_array().cloned())
                .unwrap_or_default()
        } else {
            cluster_role_rules(store, role)
        };
        let name = b["metadata"]["name"].as_str().unwrap_or("");
        let binding = if std::ptr::eq(kind, &resources::ROLE_BINDINGS) {
            format!("RoleBinding \"{name}/{b_ns}\"")
        } else {
            format!("ClusterRoleBinding {name:?}")
        };
        out.push(Grant {
            rules,
            source: format!("{binding} of {role_kind} {role:?} to {who}"),
        });
    }
    out
}

fn matches_any(list: &Value, want: &str) -> bool {
    str_list(list).any(|v| v == "*" || v == want)
}

fn rule_allows(rule: &Value, a: &Attrs) -> bool {
    let resource_ok = str_list(&rule["resources"]).any(|r| {
        r == "*"
            || (a.subresource.is_empty() && r == a.resource)
            || (!a.subresource.is_empty()
                && (r == format!("{}/{}", a.resource, a.subresource)
                    || r == format!("*/{}", a.subresource)))
    });
    let names = &rule["resourceNames"];
    let name_ok = str_list(names).next().is_none() || str_list(names).any(|n| n == a.name);
    matches_any(&rule["verbs"], &a.verb)
        && matches_any(&rule["apiGroups"], &a.group)
        && resource_ok
        && name_ok
}

/// Why the user may do `a`, in the authorizer's words, or None.
pub(super) fn allows(store: &Store, user: &User, a: &Attrs) -> Option<String> {
    // system:masters passes before RBAC is asked, so with no reason.
    if user.groups.iter().any(|g| g == "system:masters") {
        return Some(String::new());
    }
    grants(store, user, &a.namespace)
        .into_iter()
        .find(|g| g.rules.iter().any(|r| rule_allows(r, a)))
        .map(|g| format!("RBAC: allowed by {}", g.source))
}

/// The resource rules the user has in a namespace, for a rules review.
pub(super) fn resource_rules(store: &Store, user: &User, ns: &str) -> Vec<Value> {
    grants(store, user, ns)
        .into_iter()
        .flat_map(|g| g.rules)
        .filter(|r| r.get("nonResourceURLs").is_none())
        .map(|mut r| {
            if let Some(o) = r.as_object_mut() {
                o.retain(|_, v| !v.as_array().is_some_and(Vec::is_empty));
            }
            r
        })
        .collect()
}
