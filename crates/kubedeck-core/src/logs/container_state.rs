//! Where a container stands, read from its pod: which containers a stream
//! follows, whether one has a log yet, is running, or has restarted.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::stream::Containers;

pub(super) fn selected_containers(pod: &Pod, which: &Containers) -> Vec<String> {
    let names = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .map(|c| c.name.clone());
    match which {
        Containers::All => names.collect(),
        Containers::One(want) => names.filter(|n| n == want).collect(),
    }
}

pub(super) fn container_status<'a>(pod: &'a Pod, container: &str) -> Option<&'a ContainerStatus> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find(|s| s.name == container)
}

/// Whether the container's current instance has a log (it runs or ran).
pub(super) fn has_log(cs: &ContainerStatus) -> bool {
    cs.state
        .as_ref()
        .is_some_and(|s| s.running.is_some() || s.terminated.is_some())
}

pub(super) fn is_running(cs: &ContainerStatus) -> bool {
    cs.state.as_ref().is_some_and(|s| s.running.is_some())
}

pub(super) fn exit_code(cs: &ContainerStatus) -> Option<i32> {
    let s = cs.state.as_ref()?;
    s.terminated.as_ref().map(|t| t.exit_code).or_else(|| {
        cs.last_state
            .as_ref()?
            .terminated
            .as_ref()
            .map(|t| t.exit_code)
    })
}

/// What a pod's latest state says about one of its containers.
pub(super) enum Standing {
    Gone,
    /// Running the instance that was streamed.
    Running,
    /// Running a newer instance.
    Restarted(i32),
    /// Not running, but the pod may restart it.
    Exited(Option<i32>),
    /// Not running and never will again: the pod finished.
    Finished(Option<i32>),
}

pub(super) fn standing(pod: Option<&Pod>, uid: &str, container: &str, restarts: i32) -> Standing {
    let Some(pod) = pod.filter(|p| p.metadata.uid.as_deref() == Some(uid)) else {
        return Standing::Gone;
    };
    let Some(cs) = container_status(pod, container) else {
        return Standing::Gone;
    };
    if cs.restart_count > restarts && has_log(cs) {
        return Standing::Restarted(cs.restart_count);
    }
    if is_running(cs) {
        return Standing::Running;
    }
    if pod.metadata.deletion_timestamp.is_some() {
        return Standing::Gone;
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        Standing::Finished(exit_code(cs))
    } else {
        Standing::Exited(exit_code(cs))
    }
}
