//! The Deployment's ReplicaSets, after kube's sync.go: claiming them,
//! telling the new one from the old, creating the new one with its revision
//! annotations, proportional scaling and cleaning up old ones.

use serde_json::{Value, json};

use super::{
    COMPONENT, DESIRED_REPLICAS, MAX_REPLICAS, REVISION, REVISION_HISTORY, Sync, created,
    fenceposts, find_condition, is_rolling, progress_deadline, revision, set_condition,
    sort_by_creation, spec_replicas, status_i64,
};
use crate::controllers::workload_util as wu;
use crate::events;
use crate::resources;
use crate::store::{DeleteOptions, meta_str};

/// Deployment annotations that are not copied to its ReplicaSets.
const SKIP_COPY: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
];

/// kube caps the revision-history annotation at this many characters.
const MAX_REV_HISTORY_CHARS: usize = 2000;

fn max_surge(d: &Value) -> i64 {
    if is_rolling(d) { fenceposts(d).0 } else { 0 }
}

/// Templates equal but for the `pod-template-hash` label, with empty maps
/// and lists equal to absent ones (kube's semantic equality).
fn equal_ignore_hash(a: &Value, b: &Value) -> bool {
    fn strip(t: &Value) -> Value {
        let mut t = t.clone();
        if let Some(l) = t["metadata"]["labels"].as_object_mut() {
            l.remove(wu::POD_TEMPLATE_HASH);
        }
        prune(&mut t);
        t
    }
    fn prune(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for x in m.values_mut() {
                    prune(x);
                }
                m.retain(|_, x| !is_empty(x));
            }
            Value::Array(a) => a.iter_mut().for_each(prune),
            _ => {}
        }
    }
    fn is_empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        }
    }
    strip(a) == strip(b)
}

fn meta_str_ann(o: &Value, key: &str) -> String {
    o["metadata"]["annotations"][key]
        .as_str()
        .unwrap_or("")
        .to_string()
}

impl Sync<'_> {
    /// The ReplicaSets this Deployment controls after adoption and release.
    pub(super) fn claim_replicasets(&self) -> Vec<Value> {
        let ns = self.ns();
        let uid = meta_str(&self.d, "uid");
        let selector = wu::workload_selector(&self.d);
        let mut out = Vec::new();
        for rs in self.ctx.store.list(&resources::REPLICASETS, Some(&ns)) {
            let matches = selector
                .as_ref()
                .is_some_and(|s| s.matches(wu::labels(&rs)));
            let name = meta_str(&rs, "name");
            if wu::is_controlled_by(&rs, uid) {
                if matches || wu::is_terminating(&rs) {
                    out.push((*rs).clone());
                } else {
                    let _ = self
                        .ctx
                        .store
                        .modify(&resources::REPLICASETS, &ns, name, |o| {
                            wu::remove_owner_ref(o, uid)
                        });
                }
            } else if matches
                && wu::controller_ref(&rs).is_none()
                && !wu::is_terminating(&rs)
                && !wu::is_terminating(&self.d)
                && let Ok(Some(adopted)) =
                    self.ctx
                        .store
                        .modify(&resources::REPLICASETS, &ns, name, |o| {
                            wu::set_controller_ref(o, &self.d)
                        })
            {
                out.push((*adopted).clone());
            }
        }
        out
    }

    pub(super) fn refresh(&self, rs: &Value) -> Option<Value> {
        self.ctx
            .store
            .get(&resources::REPLICASETS, &self.ns(), meta_str(rs, "name"))
            .map(|o| (*o).clone())
    }

    fn template_hash(&self) -> String {
        wu::stable_hash(
            &self.d["spec"]["template"],
            self.d["status"]["collisionCount"].as_i64(),
        )
    }

    /// kube's `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (whose
    /// template is the Deployment's; the oldest if several) and the others.
    /// An existing new ReplicaSet gets the next revision if it is behind
    /// (a rollback); with `create`, a missing one is created.
    pub(super) fn new_and_old(
        &mut self,
        mut rss: Vec<Value>,
        create: bool,
    ) -> (Option<Value>, Vec<Value>) {
        sort_by_creation(&mut rss);
        let hash = self.template_hash();
        let template = &self.d["spec"]["template"];
        let pos = rss
            .iter()
            .position(|rs| equal_ignore_hash(&rs["spec"]["template"], template))
            .or_else(|| {
                rss.iter().position(|rs| {
                    rs["metadata"]["labels"][wu::POD_TEMPLATE_HASH].as_str() == Some(&hash)
                })
            });
        let existing = pos.map(|i| rss.remove(i));
        let olds = rss;
        let next_revision = olds.iter().map(revision).max().unwrap_or(0) + 1;
        match existing {
            Some(rs) => (Some(self.sync_existing_new(rs, next_revision)), olds),
            None if create => (self.create_new(&olds, next_revision, &hash), olds),
            None => (None, olds),
        }
    }

    fn sync_existing_new(&mut self, rs: Value, next_revision: i64) -> Value {
        let mut updated = rs.clone();
        self.set_new_rs_annotations(&mut updated, next_revision, true);
        if updated["spec"]["minReadySeconds"] != self.d["spec"]["minReadySeconds"] {
            updated["spec"]["minReadySeconds"] = self.d["spec"]["minReadySeconds"].clone();
        }
        let rs = if updated != rs {
            match self.ctx.store.modify(
                &resources::REPLICASETS,
                &self.ns(),
                meta_str(&rs, "name"),
                |o| {
                    o["metadata"]["annotations"] = updated["metadata"]["annotations"].clone();
                    o["spec"]["minReadySeconds"] = updated["spec"]["minReadySeconds"].clone();
                },
            ) {
                Ok(Some(o)) => (*o).clone(),
                _ => rs,
            }
        } else {
            rs
        };
        let rev = meta_str_ann(&rs, REVISION);
        wu::set_annotation(&mut self.d, REVISION, &rev);
        if progress_deadline(&self.d).is_some()
            && find_condition(&self.d["status"], "Progressing").is_none()
        {
            let msg = format!("Found new replica set \"{}\"", meta_str(&rs, "name"));
            let now = self.now_str();
            set_condition(
                &mut self.d["status"],
                "Progressing",
                "True",
                "FoundNewReplicaSet",
                &msg,
                &now,
            );
        }
        rs
    }

    /// kube's `SetNewReplicaSetAnnotations`.
    fn set_new_rs_annotations(&self, rs: &mut Value, next_revision: i64, exists: bool) {
        if let Some(ann) = self.d["metadata"]["annotations"].as_object() {
            for (k, v) in ann {
                if !SKIP_COPY.contains(&k.as_str())
                    && let Some(v) = v.as_str()
                {
                    wu::set_annotation(rs, k, v);
                }
            }
        }
        let old = rs["metadata"]["annotations"][REVISION]
            .as_str()
            .map(str::to_string);
        let old_int = old
            .as_deref()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0);
        if old_int < next_revision {
            wu::set_annotation(rs, REVISION, &next_revision.to_string());
            if let Some(old) = old {
                let history = rs["metadata"]["annotations"][REVISION_HISTORY]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                let mut revs: Vec<&str> = history.split(',').filter(|s| !s.is_empty()).collect();
                revs.push(&old);
                while revs.join(",").len() > MAX_REV_HISTORY_CHARS && revs.len() > 1 {
                    revs.remove(0);
                }
                wu::set_annotation(rs, REVISION_HISTORY, &revs.join(","));
            }
        }
        if !exists {
            let d = &self.d;
            wu::set_annotation(rs, DESIRED_REPLICAS, &spec_replicas(d).to_string());
            wu::set_annotation(
                rs,
                MAX_REPLICAS,
                &(spec_replicas(d) + max_surge(d)).to_string(),
            );
        }
    }

    fn create_new(&mut self, olds: &[Value], next_revision: i64, hash: &str) -> Option<Value> {
        let ns = self.ns();
        let name = format!("{}-{hash}", self.name());
        let mut template = self.d["spec"]["template"].clone();
        template["metadata"]["labels"][wu::POD_TEMPLATE_HASH] = json!(hash);
        let mut selector = self.d["spec"]["selector"].clone();
        selector["matchLabels"][wu::POD_TEMPLATE_HASH] = json!(hash);
        let mut rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": template["metadata"]["labels"],
                "ownerReferences": [wu::controller_ref_to(&self.d)],
            },
            "spec": {
                "replicas": 0,
                "selector": selector,
                "template": template,
            },
        });
        if let Some(m) = self.d["spec"]["minReadySeconds"].as_i64() {
            rs["spec"]["minReadySeconds"] = json!(m);
        }
        let count = self.new_rs_new_replicas(olds, &rs);
        rs["spec"]["replicas"] = json!(count);
        self.set_new_rs_annotations(&mut rs, next_revision, false);
        let created = match self.ctx.store.create(&resources::REPLICASETS, rs) {
            Ok(c) => (*c).clone(),
            Err(e) if e.code == 409 => {
                // A same-named ReplicaSet with another template: a hash
                // collision. Bump the count so the next hash differs.
                let existing = self.ctx.store.get(&resources::REPLICASETS, &ns, &name);
                if let Some(rs) = existing
                    && wu::is_controlled_by(&rs, meta_str(&self.d, "uid"))
                    && equal_ignore_hash(&rs["spec"]["template"], &self.d["spec"]["template"])
                {
                    return Some((*rs).clone());
                }
                let c = self.d["status"]["collisionCount"].as_i64().unwrap_or(0);
                self.d["status"]["collisionCount"] = json!(c + 1);
                return None;
            }
            Err(e) => {
                self.ctx.recorder.record(
                    &self.original,
                    events::WARNING,
                    "ReplicaSetCreateError",
                    &format!("Failed to create new replica set \"{name}\": {}", e.message),
                    COMPONENT,
                );
                return None;
            }
        };
        if count > 0 {
            self.ctx.recorder.record(
                &self.original,
                events::NORMAL,
                "ScalingReplicaSet",
                &format!("Scaled up replica set {name} from 0 to {count}"),
                COMPONENT,
            );
        }
        wu::set_annotation(&mut self.d, REVISION, &next_revision.to_string());
        if progress_deadline(&self.d).is_some() {
            let now = self.now_str();
            set_condition(
                &mut self.d["status"],
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                &format!("Created new replica set \"{name}\""),
                &now,
            );
        }
        Some(created)
    }

    /// kube's `NewRSNewReplicas`: how big the new ReplicaSet may be now.
    pub(super) fn new_rs_new_replicas(&self, olds: &[Value], new: &Value) -> i64 {
        let d = &self.d;
        let new_spec = spec_replicas(new);
        if !is_rolling(d) {
            return spec_replicas(d);
        }
        let current: i64 = olds.iter().map(spec_replicas).sum::<i64>() + new_spec;
        let max_total = spec_replicas(d) + max_surge(d);
        if current >= max_total {
            return new_spec;
        }
        let up = (max_total - current).min(spec_replicas(d) - new_spec);
        new_spec + up.max(0)
    }

    pub(super) fn is_scaling_event(&mut self, rss: &[Value]) -> bool {
        let (new, olds) = self.new_and_old(rss.to_vec(), false);
        let want = spec_replicas(&self.d);
        new.iter()
            .chain(olds.iter())
            .filter(|rs| spec_replicas(rs) > 0)
            .filter_map(|rs| wu::annotation_i64(rs, DESIRED_REPLICAS))
            .any(|desired| desired != want)
    }

    /// kube's `scaleReplicaSet`: size plus the desired/max annotations; an
    /// event when the size changes. Returns whether the size changed.
    pub(super) fn scale_rs(&self, rs: &mut Value, to: i64) -> bool {
        let d = &self.d;
        let from = spec_replicas(rs);
        let desired = spec_replicas(d).to_string();
        let max = (spec_replicas(d) + max_surge(d)).to_string();
        let ann = &rs["metadata"]["annotations"];
        if from == to
            && ann[DESIRED_REPLICAS] == desired.as_str()
            && ann[MAX_REPLICAS] == max.as_str()
        {
            return false;
        }
        let name = meta_str(rs, "name").to_string();
        let stored = self
            .ctx
            .store
            .modify(&resources::REPLICASETS, &self.ns(), &name, |o| {
                o["spec"]["replicas"] = json!(to);
                wu::set_annotation(o, DESIRED_REPLICAS, &desired);
                wu::set_annotation(o, MAX_REPLICAS, &max);
            });
        let Ok(Some(stored)) = stored else {
            return false;
        };
        *rs = (*stored).clone();
        if from == to {
            return false;
        }
        let op = if to > from { "up" } else { "down" };
        self.ctx.recorder.record(
            &self.original,
            events::NORMAL,
            "ScalingReplicaSet",
            &format!("Scaled {op} replica set {name} from {from} to {to}"),
            COMPONENT,
        );
        true
    }

    /// kube's `scale`: resize the only active ReplicaSet, or finish a
    /// saturated rollout, or spread a replica change proportionally.
    pub(super) fn scale(&self, mut new: Option<Value>, olds: &mut [Value]) {
        let d = &self.d;
        let want = spec_replicas(d);
        let active_count = new
            .iter()
            .chain(olds.iter())
            .filter(|rs| spec_replicas(rs) > 0)
            .count();
        if new.is_none() && olds.is_empty() {
            return;
        }
        if active_count <= 1 {
            let target: Option<&mut Value> = if active_count == 0 {
                match new.as_mut() {
                    Some(n) => Some(n),
                    None => {
                        olds.sort_by_key(|rs| std::cmp::Reverse(created(rs)));
                        olds.first_mut()
                    }
                }
            } else {
                new.as_mut()
                    .filter(|n| spec_replicas(n) > 0)
                    .or_else(|| olds.iter_mut().find(|o| spec_replicas(o) > 0))
            };
            // Also refreshes the desired-replicas annotation, which is what
            // ends the scaling event.
            if let Some(rs) = target {
                self.scale_rs(rs, want);
            }
            return;
        }
        let saturated = new.as_ref().is_some_and(|n| {
            spec_replicas(n) == want
                && wu::annotation_i64(n, DESIRED_REPLICAS) == Some(want)
                && status_i64(n, "availableReplicas") == want
        });
        if saturated {
            for rs in olds.iter_mut().filter(|rs| spec_replicas(rs) > 0) {
                self.scale_rs(rs, 0);
            }
            return;
        }
        if !is_rolling(d) {
            return;
        }
        let mut all: Vec<&mut Value> = olds
            .iter_mut()
            .chain(new.iter_mut())
            .filter(|rs| spec_replicas(rs) > 0)
            .collect();
        let current: i64 = all.iter().map(|rs| spec_replicas(rs)).sum();
        let allowed = if want > 0 { want + max_surge(d) } else { 0 };
        let to_add = allowed - current;
        // Scaling up favours the largest and newest; down, the largest and oldest.
        all.sort_by(|a, b| {
            spec_replicas(b).cmp(&spec_replicas(a)).then_with(|| {
                if to_add > 0 {
                    created(b).cmp(&created(a))
                } else {
                    created(a).cmp(&created(b))
                }
            })
        });
        let mut sizes: Vec<i64> = Vec::with_capacity(all.len());
        let mut added = 0;
        for rs in &all {
            let p = self.proportion(rs, to_add, added);
            sizes.push(spec_replicas(rs) + p);
            added += p;
        }
        if let Some(first) = sizes.first_mut() {
            *first = (*first + to_add - added).max(0);
        }
        for (rs, size) in all.into_iter().zip(sizes) {
            self.scale_rs(rs, size);
        }
    }

    /// kube's `GetProportion`.
    fn proportion(&self, rs: &Value, to_add: i64, added: i64) -> i64 {
        let d = &self.d;
        if spec_replicas(rs) == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let fraction = if spec_replicas(d) == 0 {
            -spec_replicas(rs)
        } else {
            let deployment_replicas = spec_replicas(d) + max_surge(d);
            let annotated = wu::annotation_i64(rs, MAX_REPLICAS)
                .unwrap_or_else(|| status_i64(d, "replicas"))
                .max(1);
            let size = (spec_replicas(rs) * deployment_replicas) as f64 / annotated as f64;
            size.round() as i64 - spec_replicas(rs)
        };
        let allowed = to_add - added;
        if to_add > 0 {
            fraction.min(allowed)
        } else {
            fraction.max(allowed)
        }
    }

    /// kube's `cleanupDeployment`: old, empty, settled ReplicaSets beyond
    /// revisionHistoryLimit are deleted, lowest revisions first.
    pub(super) fn cleanup(&self, olds: &[Value]) {
        let limit = wu::int_field(&self.d["spec"]["revisionHistoryLimit"], 10).max(0);
        let mut cleanable: Vec<&Value> = olds.iter().filter(|rs| !wu::is_terminating(rs)).collect();
        let diff = cleanable.len() as i64 - limit;
        if diff <= 0 {
            return;
        }
        cleanable.sort_by(|a, b| {
            revision(a)
                .cmp(&revision(b))
                .then_with(|| created(a).cmp(&created(b)))
        });
        for rs in cleanable.into_iter().take(diff as usize) {
            let settled = rs["metadata"]["generation"].as_i64().unwrap_or(1)
                <= status_i64(rs, "observedGeneration");
            if status_i64(rs, "replicas") != 0 || spec_replicas(rs) != 0 || !settled {
                continue;
            }
            let _ = self.ctx.store.delete(
                &resources::REPLICASETS,
                &self.ns(),
                meta_str(rs, "name"),
                &DeleteOptions::default(),
            );
        }
    }
}
