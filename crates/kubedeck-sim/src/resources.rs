//! The registry of resource kinds the simulated API server knows. Storage is
//! generic JSON, so adding a kind here is enough to make it listable, watchable
//! and writable; controllers and printers give it behaviour. The kinds of
//! CustomResourceDefinitions join at run time through the store's
//! `crd::Registry`.

/// A column of a custom resource's Table, from its CRD version's
/// `additionalPrinterColumns`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct PrinterColumn {
    pub(crate) name: &'static str,
    /// integer, number, string, boolean or date.
    pub(crate) ty: &'static str,
    pub(crate) format: &'static str,
    pub(crate) description: &'static str,
    pub(crate) priority: i64,
    /// As written in the CRD, e.g. `.status.replicas`.
    pub(crate) json_path: &'static str,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ResourceDef {
    /// API group; "" is the legacy core group.
    pub(crate) group: &'static str,
    pub(crate) version: &'static str,
    pub(crate) plural: &'static str,
    pub(crate) singular: &'static str,
    pub kind: &'static str,
    pub(crate) namespaced: bool,
    pub(crate) short_names: &'static [&'static str],
    pub(crate) verbs: &'static [&'static str],
    /// Subresources served under `<plural>/<sub>`.
    pub(crate) subresources: &'static [&'static str],
    pub(crate) categories: &'static [&'static str],
    /// Kept by the store and served from its HTTP paths. Virtual kinds
    /// (reviews, metrics) are handled by dedicated handlers instead.
    pub(crate) stored: bool,
    /// Served for a CustomResourceDefinition: every version shares one
    /// table, and `columns` print its Table.
    pub(crate) custom: bool,
    pub(crate) columns: &'static [PrinterColumn],
}

impl ResourceDef {
    /// `apps/v1` or `v1`.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub(crate) fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub(crate) fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.contains(&sub)
    }

    /// Whether the API server keeps a `metadata.generation` for this kind
    /// (its strategy sets it on create and bumps it when the spec changes);
    /// the others (Namespace, Node, Service, ConfigMap, Event, …) have none.
    pub(crate) fn has_generation(&self) -> bool {
        self.custom
            || [
                &PODS,
                &DEPLOYMENTS,
                &REPLICASETS,
                &STATEFULSETS,
                &DAEMONSETS,
                &JOBS,
                &CRONJOBS,
                &HPAS,
                &HPAS_V1,
                &PDBS,
                &ENDPOINT_SLICES,
                &INGRESSES,
                &NETWORK_POLICIES,
            ]
            .iter()
            .any(|r| std::ptr::eq(*r, self))
    }

    /// Whether two served kinds are kept in the same table: the same group
    /// and plural (events.k8s.io events are mapped to core ones before).
    pub(crate) fn same_table(&self, other: &ResourceDef) -> bool {
        self.group == other.group && self.plural == other.plural
    }
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const CREATE_ONLY: &[&str] = &["create"];
const READ_ONLY: &[&str] = &["get", "list"];

macro_rules! res {
    ($name:ident, $group:expr, $version:expr, $plural:expr, $singular:expr, $kind:expr, $ns:expr,
     short: [$($short:expr),*], verbs: $verbs:expr, sub: [$($sub:expr),*], cat: [$($cat:expr),*], stored: $stored:expr) => {
        pub static $name: ResourceDef = ResourceDef {
            group: $group,
            version: $version,
            plural: $plural,
            singular: $singular,
            kind: $kind,
            namespaced: $ns,
            short_names: &[$($short),*],
            verbs: $verbs,
            subresources: &[$($sub),*],
            categories: &[$($cat),*],
            stored: $stored,
            custom: false,
            columns: &[],
        };
    };
}

res!(NAMESPACES, "", "v1", "namespaces", "namespace", "Namespace", false, short: ["ns"], verbs: ALL_VERBS, sub: ["status", "finalize"], cat: [], stored: true);
res!(NODES, "", "v1", "nodes", "node", "Node", false, short: ["no"], verbs: ALL_VERBS, sub: ["status"], cat: [], stored: true);
res!(PODS, "", "v1", "pods", "pod", "Pod", true, short: ["po"], verbs: ALL_VERBS, sub: ["status", "log", "eviction", "binding", "portforward", "exec"], cat: ["all"], stored: true);
res!(SERVICES, "", "v1", "services", "service", "Service", true, short: ["svc"], verbs: ALL_VERBS, sub: ["status"], cat: ["all"], stored: true);
res!(ENDPOINTS, "", "v1", "endpoints", "endpoints", "Endpoints", true, short: ["ep"], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(EVENTS, "", "v1", "events", "event", "Event", true, short: ["ev"], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(CONFIGMAPS, "", "v1", "configmaps", "configmap", "ConfigMap", true, short: ["cm"], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(SECRETS, "", "v1", "secrets", "secret", "Secret", true, short: [], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(SERVICE_ACCOUNTS, "", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, short: ["sa"], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(PVCS, "", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, short: ["pvc"], verbs: ALL_VERBS, sub: ["status"], cat: [], stored: true);
res!(PVS, "", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, short: ["pv"], verbs: ALL_VERBS, sub: ["status"], cat: [], stored: true);
res!(DEPLOYMENTS, "apps", "v1", "deployments", "deployment", "Deployment", true, short: ["deploy"], verbs: ALL_VERBS, sub: ["status", "scale"], cat: ["all"], stored: true);
res!(REPLICASETS, "apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, short: ["rs"], verbs: ALL_VERBS, sub: ["status", "scale"], cat: ["all"], stored: true);
res!(STATEFULSETS, "apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, short: ["sts"], verbs: ALL_VERBS, sub: ["status", "scale"], cat: ["all"], stored: true);
res!(DAEMONSETS, "apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, short: ["ds"], verbs: ALL_VERBS, sub: ["status"], cat: ["all"], stored: true);
res!(CONTROLLER_REVISIONS, "apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, short: [], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(JOBS, "batch", "v1", "jobs", "job", "Job", true, short: [], verbs: ALL_VERBS, sub: ["status"], cat: ["all"], stored: true);
res!(CRONJOBS, "batch", "v1", "cronjobs", "cronjob", "CronJob", true, short: ["cj"], verbs: ALL_VERBS, sub: ["status"], cat: ["all"], stored: true);
res!(HPAS, "autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, short: ["hpa"], verbs: ALL_VERBS, sub: ["status"], cat: ["all"], stored: true);
// A view of the stored v2 objects (`kubectl autoscale` creates v1).
res!(HPAS_V1, "autoscaling", "v1", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, short: ["hpa"], verbs: ALL_VERBS, sub: ["status"], cat: ["all"], stored: false);
res!(PDBS, "policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, short: ["pdb"], verbs: ALL_VERBS, sub: ["status"], cat: [], stored: true);
res!(ENDPOINT_SLICES, "discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, short: [], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
// events.k8s.io/v1 is a second view of the core events: the API layer converts.
res!(EVENTS_V1, "events.k8s.io", "v1", "events", "event", "Event", true, short: ["ev"], verbs: ALL_VERBS, sub: [], cat: [], stored: false);
res!(INGRESSES, "networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, short: ["ing"], verbs: ALL_VERBS, sub: ["status"], cat: [], stored: true);
res!(NETWORK_POLICIES, "networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, short: ["netpol"], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(STORAGE_CLASSES, "storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, short: ["sc"], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(ROLES, "rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, short: [], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(ROLE_BINDINGS, "rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, short: [], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(CLUSTER_ROLES, "rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, short: [], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(CLUSTER_ROLE_BINDINGS, "rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, short: [], verbs: ALL_VERBS, sub: [], cat: [], stored: true);
res!(CRDS, "apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition", false, short: ["crd", "crds"], verbs: ALL_VERBS, sub: ["status"], cat: ["api-extensions"], stored: true);
res!(SELF_SUBJECT_ACCESS_REVIEWS, "authorization.k8s.io", "v1", "selfsubjectaccessreviews", "", "SelfSubjectAccessReview", false, short: [], verbs: CREATE_ONLY, sub: [], cat: [], stored: false);
res!(SELF_SUBJECT_RULES_REVIEWS, "authorization.k8s.io", "v1", "selfsubjectrulesreviews", "", "SelfSubjectRulesReview", false, short: [], verbs: CREATE_ONLY, sub: [], cat: [], stored: false);
res!(POD_METRICS, "metrics.k8s.io", "v1beta1", "pods", "", "PodMetrics", true, short: [], verbs: READ_ONLY, sub: [], cat: [], stored: false);
res!(NODE_METRICS, "metrics.k8s.io", "v1beta1", "nodes", "", "NodeMetrics", false, short: [], verbs: READ_ONLY, sub: [], cat: [], stored: false);

/// Every kind, in discovery order.
pub(crate) static ALL: &[&ResourceDef] = &[
    &NAMESPACES,
    &NODES,
    &PODS,
    &SERVICES,
    &ENDPOINTS,
    &EVENTS,
    &CONFIGMAPS,
    &SECRETS,
    &SERVICE_ACCOUNTS,
    &PVCS,
    &PVS,
    &DEPLOYMENTS,
    &REPLICASETS,
    &STATEFULSETS,
    &DAEMONSETS,
    &CONTROLLER_REVISIONS,
    &JOBS,
    &CRONJOBS,
    &HPAS,
    &HPAS_V1,
    &PDBS,
    &ENDPOINT_SLICES,
    &EVENTS_V1,
    &INGRESSES,
    &NETWORK_POLICIES,
    &STORAGE_CLASSES,
    &ROLES,
    &ROLE_BINDINGS,
    &CLUSTER_ROLES,
    &CLUSTER_ROLE_BINDINGS,
    &CRDS,
    &SELF_SUBJECT_ACCESS_REVIEWS,
    &SELF_SUBJECT_RULES_REVIEWS,
    &POD_METRICS,
    &NODE_METRICS,
];

/// Finds a built-in kind by its HTTP path parts.
pub(crate) fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceDef> {
    ALL.iter()
        .copied()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Finds a built-in kind by apiVersion and kind, as written in a manifest.
pub(crate) fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    ALL.iter()
        .copied()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The group/versions of these kinds, in their order.
pub(crate) fn group_versions_of(
    kinds: &[&'static ResourceDef],
) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in kinds {
        if !r.group.is_empty() && !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What tells stored kinds apart: `pods`, `apps/deployments`.
    fn id(r: &ResourceDef) -> String {
        if r.group.is_empty() {
            r.plural.to_string()
        } else {
            format!("{}/{}", r.group, r.plural)
        }
    }

    #[test]
    fn lookups_find_kinds_by_path_and_by_manifest_fields() {
        assert_eq!(lookup("apps", "v1", "deployments"), Some(&DEPLOYMENTS));
        assert_eq!(by_kind("v1", "Pod"), Some(&PODS));
        assert_eq!(by_kind("batch/v1", "CronJob"), Some(&CRONJOBS));
        assert_eq!(lookup("apps", "v1", "widgets"), None);
    }

    #[test]
    fn store_ids_are_unique_among_stored_kinds() {
        let mut seen = std::collections::HashSet::new();
        for r in ALL.iter().filter(|r| r.stored) {
            assert!(seen.insert(id(r)), "duplicate id {}", id(r));
        }
    }
}
