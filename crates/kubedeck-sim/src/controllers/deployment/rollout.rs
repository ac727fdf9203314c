//! The two rollout strategies, after kube's rolling.go and recreate.go.

use std::time::Duration;

use serde_json::Value;

use super::{Sync, max_unavailable, sort_by_creation, spec_replicas, status_i64};
use crate::controllers::workload_util as wu;
use crate::resources;
use crate::store::meta_str;

impl Sync<'_> {
    pub(super) fn rollout_rolling(&mut self, rss: Vec<Value>) -> Option<Duration> {
        let (new, mut olds) = self.new_and_old(rss, true);
        let Some(mut new) = new else {
            // A hash collision was recorded; retry at once with the next hash.
            self.finish();
            return Some(Duration::from_millis(10));
        };
        if self.reconcile_new(&olds, &mut new) {
            self.sync_rollout_status(Some(&new), &olds);
            return self.finish();
        }
        if self.reconcile_olds(&mut olds, &new) {
            self.sync_rollout_status(Some(&new), &olds);
            return self.finish();
        }
        if self.complete_per(&self.d["status"]) {
            self.cleanup(&olds);
        }
        self.sync_rollout_status(Some(&new), &olds);
        self.finish()
    }

    fn reconcile_new(&self, olds: &[Value], new: &mut Value) -> bool {
        let want = spec_replicas(&self.d);
        let have = spec_replicas(new);
        if have == want {
            return false;
        }
        if have > want {
            return self.scale_rs(new, want);
        }
        let count = self.new_rs_new_replicas(olds, new);
        self.scale_rs(new, count)
    }

    fn reconcile_olds(&self, olds: &mut [Value], new: &Value) -> bool {
        let d = &self.d;
        let old_count: i64 = olds.iter().map(spec_replicas).sum();
        if old_count == 0 {
            return false;
        }
        let all_count = old_count + spec_replicas(new);
        let min_available = spec_replicas(d) - max_unavailable(d);
        let new_unavailable = spec_replicas(new) - status_i64(new, "availableReplicas");
        let max_scaled_down = all_count - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        sort_by_creation(olds);
        // First drop old replicas that are not available anyway.
        let mut cleaned = 0;
        for rs in olds.iter_mut() {
            if cleaned >= max_scaled_down {
                break;
            }
            let spec = spec_replicas(rs);
            let avail = status_i64(rs, "availableReplicas");
            if spec == 0 || spec == avail {
                continue;
            }
            let n = (max_scaled_down - cleaned).min(spec - avail);
            if self.scale_rs(rs, spec - n) {
                cleaned += n;
            }
        }
        // Then scale down available ones while staying above minAvailable.
        let available: i64 = olds
            .iter()
            .chain(std::iter::once(new))
            .map(|rs| status_i64(rs, "availableReplicas"))
            .sum();
        let mut scaled = 0;
        if available > min_available {
            let total = available - min_available;
            for rs in olds.iter_mut() {
                if scaled >= total {
                    break;
                }
                let spec = spec_replicas(rs);
                if spec == 0 {
                    continue;
                }
                let n = spec.min(total - scaled);
                if self.scale_rs(rs, spec - n) {
                    scaled += n;
                }
            }
        }
        cleaned + scaled > 0
    }

    pub(super) fn rollout_recreate(&mut self, rss: Vec<Value>) -> Option<Duration> {
        let (new, mut olds) = self.new_and_old(rss.clone(), false);
        let mut scaled_down = false;
        for rs in olds.iter_mut().filter(|rs| spec_replicas(rs) > 0) {
            scaled_down |= self.scale_rs(rs, 0);
        }
        if scaled_down {
            self.sync_rollout_status(new.as_ref(), &olds);
            return self.finish();
        }
        if self.old_pods_running(new.as_ref(), &olds) {
            self.sync_rollout_status(new.as_ref(), &olds);
            return self.finish();
        }
        let new = match new {
            Some(n) => Some(n),
            None => self.new_and_old(rss, true).0,
        };
        let Some(mut new) = new else {
            self.finish();
            return Some(Duration::from_millis(10));
        };
        let want = spec_replicas(&self.d);
        if spec_replicas(&new) != want {
            self.scale_rs(&mut new, want);
        }
        if self.complete_per(&self.d["status"]) {
            self.cleanup(&olds);
        }
        self.sync_rollout_status(Some(&new), &olds);
        self.finish()
    }

    /// Whether any pod of an old ReplicaSet still exists (terminating ones
    /// included): Recreate must not overlap old and new pods.
    fn old_pods_running(&self, new: Option<&Value>, olds: &[Value]) -> bool {
        if olds.iter().any(|rs| status_i64(rs, "replicas") > 0) {
            return true;
        }
        let old_uids: Vec<&str> = olds.iter().map(|rs| meta_str(rs, "uid")).collect();
        let new_uid = new.map(|n| meta_str(n, "uid"));
        self.ctx
            .store
            .list(&resources::PODS, Some(&self.ns()))
            .iter()
            .filter(|p| !matches!(wu::phase(p), "Succeeded" | "Failed"))
            .filter_map(|p| wu::controller_ref(p).and_then(|r| r["uid"].as_str()))
            .any(|uid| Some(uid) != new_uid && old_uids.contains(&uid))
    }
}
