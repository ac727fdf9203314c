//! The console's picture of the cluster: one reflector store per kind, fed
//! by kube-runtime watchers. The stores are the only thing network tasks
//! write; they tell the UI loop what changed through coalesced messages.

/// `kube::Resource` for a projection of a namespaced kind: the watch
/// decodes straight into it, skipping the fields it does not name.
macro_rules! namespaced_resource {
    ($ty:ty, $group:literal, $version:literal, $api_version:literal, $kind:literal, $plural:literal) => {
        impl kube::Resource for $ty {
            type DynamicType = ();
            type Scope = k8s_openapi::NamespaceResourceScope;

            fn kind(_: &()) -> std::borrow::Cow<'_, str> {
                $kind.into()
            }
            fn group(_: &()) -> std::borrow::Cow<'_, str> {
                $group.into()
            }
            fn version(_: &()) -> std::borrow::Cow<'_, str> {
                $version.into()
            }
            fn api_version(_: &()) -> std::borrow::Cow<'_, str> {
                $api_version.into()
            }
            fn plural(_: &()) -> std::borrow::Cow<'_, str> {
                $plural.into()
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

macro_rules! core_v1_resource {
    ($ty:ty, $kind:literal, $plural:literal) => {
        namespaced_resource!($ty, "", "v1", "v1", $kind, $plural);
    };
}

/// `Serialize` for a projection with `metadata`, `spec` and `status`, as
/// the API would serve it (apiVersion and kind first), so describe, which
/// reads JSON, sees every projected field where a full object has it.
macro_rules! serialize_as_served {
    ($ty:ty, $api_version:literal, $kind:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct($kind, 5)?;
                st.serialize_field("apiVersion", $api_version)?;
                st.serialize_field("kind", $kind)?;
                st.serialize_field("metadata", &self.metadata)?;
                if let Some(spec) = &self.spec {
                    st.serialize_field("spec", spec)?;
                }
                if let Some(status) = &self.status {
                    st.serialize_field("status", status)?;
                }
                st.end()
            }
        }
    };
}

pub mod browse;
pub mod cache;
pub mod discovery;
#[cfg(test)]
mod events_tests;
#[cfg(test)]
mod fault_tests;
pub(crate) mod metrics;
mod retry;
mod session;
pub(crate) mod slim_event;
pub(crate) mod slim_meta;
pub(crate) mod slim_pod;
pub(crate) mod slim_workload;
#[cfg(test)]
mod stream_tests;
pub mod watch;

pub use cache::{Cache, Kind};
pub(crate) use slim_event::SlimEvent;
pub(crate) use slim_pod::SlimPod;
pub(crate) use slim_workload::{SlimDeployment, SlimReplicaSet};
