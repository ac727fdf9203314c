//! Status and conditions, after kube's progress.go: replica counts, the
//! Available and Progressing conditions, the progress deadline and when to
//! look again for it.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    Sync, find_condition, max_unavailable, progress_deadline, remove_condition, set_condition,
    spec_replicas, status_i64,
};
use crate::controllers::workload_util as wu;
use crate::store::{meta_str, parse_time};

impl Sync<'_> {
    pub(super) fn check_paused_conditions(&mut self) {
        if progress_deadline(&self.d).is_none() {
            return;
        }
        let cond = find_condition(&self.d["status"], "Progressing");
        if cond.is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
            return;
        }
        let paused_cond = cond.is_some_and(|c| c["reason"] == "DeploymentPaused");
        let paused = self.d["spec"]["paused"].as_bool() == Some(true);
        let now = self.now_str();
        if paused && !paused_cond {
            set_condition(
                &mut self.d["status"],
                "Progressing",
                "Unknown",
                "DeploymentPaused",
                "Deployment is paused",
                &now,
            );
        } else if !paused && paused_cond {
            set_condition(
                &mut self.d["status"],
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
                &now,
            );
        }
    }

    /// kube's `calculateStatus`: counts from the ReplicaSets, the existing
    /// conditions, and Available recomputed.
    fn calculate_status(&self, new: Option<&Value>, olds: &[Value]) -> Value {
        let d = &self.d;
        let all: Vec<&Value> = olds.iter().chain(new).collect();
        let sum = |f: &str| all.iter().map(|rs| status_i64(rs, f)).sum::<i64>();
        let available = sum("availableReplicas");
        let total: i64 = all.iter().map(|rs| spec_replicas(rs)).sum();
        let mut status = json!({
            "observedGeneration": d["metadata"]["generation"].as_i64().unwrap_or(1),
            "replicas": sum("replicas"),
            "updatedReplicas": new.map_or(0, |n| status_i64(n, "replicas")),
            "readyReplicas": sum("readyReplicas"),
            "availableReplicas": available,
            "unavailableReplicas": (total - available).max(0),
        });
        // As kube's omitempty.
        if let Some(m) = status.as_object_mut() {
            m.retain(|k, v| k == "observedGeneration" || v.as_i64() != Some(0));
        }
        // kube's `GetTerminatingReplicaCountForReplicaSets`: the sum, once
        // every synced ReplicaSet reports its count.
        let terminating: Option<i64> = all
            .iter()
            .filter(|rs| !rs["status"]["observedGeneration"].is_null())
            .map(|rs| rs["status"]["terminatingReplicas"].as_i64())
            .sum();
        if let Some(t) = terminating {
            status["terminatingReplicas"] = json!(t);
        }
        if let Some(c) = d["status"]["collisionCount"].as_i64() {
            status["collisionCount"] = json!(c);
        }
        if let Some(conds) = d["status"]["conditions"].as_array() {
            status["conditions"] = json!(conds);
        }
        let now = self.now_str();
        if available >= spec_replicas(d) - max_unavailable(d) {
            set_condition(
                &mut status,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                &now,
            );
        } else {
            set_condition(
                &mut status,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                &now,
            );
        }
        status
    }

    pub(super) fn sync_status(&mut self, new: Option<&Value>, olds: &[Value]) {
        let new = new.and_then(|n| self.refresh(n));
        let olds: Vec<Value> = olds.iter().filter_map(|o| self.refresh(o)).collect();
        self.d["status"] = self.calculate_status(new.as_ref(), &olds);
    }

    /// kube's `DeploymentComplete` against a status.
    pub(super) fn complete_per(&self, status: &Value) -> bool {
        let want = spec_replicas(&self.d);
        status["updatedReplicas"].as_i64().unwrap_or(0) == want
            && status["replicas"].as_i64().unwrap_or(0) == want
            && status["availableReplicas"].as_i64().unwrap_or(0) == want
            && status["observedGeneration"].as_i64().unwrap_or(0)
                >= self.d["metadata"]["generation"].as_i64().unwrap_or(1)
    }

    /// kube's `syncRolloutStatus`: counts plus the Progressing condition.
    pub(super) fn sync_rollout_status(&mut self, new: Option<&Value>, olds: &[Value]) {
        let new = new.and_then(|n| self.refresh(n));
        let olds: Vec<Value> = olds.iter().filter_map(|o| self.refresh(o)).collect();
        let mut status = self.calculate_status(new.as_ref(), &olds);
        let deadline = progress_deadline(&self.d);
        if deadline.is_none() {
            remove_condition(&mut status, "Progressing");
        }
        let current = find_condition(&self.d["status"], "Progressing").cloned();
        let complete_before = status["replicas"] == status["updatedReplicas"]
            && current
                .as_ref()
                .is_some_and(|c| c["reason"] == "NewReplicaSetAvailable");
        let now = self.now_str();
        let rs_name = new.as_ref().map(|n| meta_str(n, "name").to_string());
        let subject = match &rs_name {
            Some(n) => format!("ReplicaSet \"{n}\""),
            None => format!("Deployment \"{}\"", self.name()),
        };
        if let Some(deadline) = deadline
            && !complete_before
        {
            if self.complete_per(&status) {
                set_condition(
                    &mut status,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("{subject} has successfully progressed."),
                    &now,
                );
            } else if self.progressing(&status) {
                let mut transition = now.clone();
                if let Some(c) = &current
                    && c["status"] == "True"
                    && let Some(t) = c["lastTransitionTime"].as_str()
                {
                    transition = t.to_string();
                }
                remove_condition(&mut status, "Progressing");
                if let Some(a) = status["conditions"].as_array_mut() {
                    a.push(json!({
                        "type": "Progressing",
                        "status": "True",
                        "lastUpdateTime": now,
                        "lastTransitionTime": transition,
                        "reason": "ReplicaSetUpdated",
                        "message": format!("{subject} is progressing."),
                    }));
                }
            } else if self.timed_out(&status, deadline) {
                set_condition(
                    &mut status,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    &format!("{subject} has timed out progressing."),
                    &now,
                );
            }
        }
        self.d["status"] = status;
    }

    /// kube's `DeploymentProgressing`: any count moved the right way.
    pub(super) fn progressing(&self, new: &Value) -> bool {
        let old = &self.original["status"];
        let get = |s: &Value, f: &str| s[f].as_i64().unwrap_or(0);
        let old_old = get(old, "replicas") - get(old, "updatedReplicas");
        let new_old = get(new, "replicas") - get(new, "updatedReplicas");
        get(new, "updatedReplicas") > get(old, "updatedReplicas")
            || new_old < old_old
            || get(new, "readyReplicas") > get(old, "readyReplicas")
            || get(new, "availableReplicas") > get(old, "availableReplicas")
    }

    /// kube's `DeploymentTimedOut`.
    fn timed_out(&self, status: &Value, deadline: i64) -> bool {
        let Some(c) = find_condition(status, "Progressing") else {
            return false;
        };
        match c["reason"].as_str() {
            Some("NewReplicaSetAvailable") => false,
            Some("ProgressDeadlineExceeded") => true,
            _ => c["lastUpdateTime"]
                .as_str()
                .and_then(parse_time)
                .is_some_and(|from| from + chrono::Duration::seconds(deadline) < self.now),
        }
    }

    /// kube's `requeueStuckDeployment`: wake up when the deadline passes.
    pub(super) fn requeue_after(&self, status: &Value) -> Option<Duration> {
        let deadline = progress_deadline(&self.d)?;
        let c = find_condition(status, "Progressing")?;
        if self.complete_per(status)
            || c["reason"] == "ProgressDeadlineExceeded"
            || c["reason"] == "NewReplicaSetAvailable"
            || self.d["spec"]["paused"].as_bool() == Some(true)
            || wu::is_terminating(&self.d)
        {
            return None;
        }
        let from = c["lastUpdateTime"].as_str().and_then(parse_time)?;
        let at = from + chrono::Duration::seconds(deadline) + chrono::Duration::seconds(1);
        Some(
            (at - self.now)
                .to_std()
                .unwrap_or_default()
                .max(Duration::from_secs(1)),
        )
    }
}
