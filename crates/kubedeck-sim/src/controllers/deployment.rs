//! The Deployment controller (`deployment-controller`): one ReplicaSet per
//! pod-template hash, rolled over with the RollingUpdate or Recreate
//! strategy, revisions in annotations, and the Available/Progressing
//! conditions `kubectl rollout status` reads — following kube's
//! `pkg/controller/deployment` step for step.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::workload_util as wu;
use super::{Controller, Ctx};
use crate::events;
use crate::resources::{self, ResourceDef};
use crate::store::{
    Change, ChangeType, DeleteOptions, ObjKey, fmt_time, meta_str, obj_key, parse_time,
};

const COMPONENT: &str = "deployment-controller";
pub const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
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
/// What a Deployment without `progressDeadlineSeconds` gets by defaulting.
const DEFAULT_PROGRESS_DEADLINE: i64 = 600;
/// kube's "no deadline" sentinel (math.MaxInt32).
const NO_DEADLINE: i64 = i32::MAX as i64;

pub fn controllers() -> Vec<Arc<dyn Controller>> {
    vec![Arc::new(DeploymentController)]
}

struct DeploymentController;

impl Controller for DeploymentController {
    fn name(&self) -> &'static str {
        COMPONENT
    }

    fn primary(&self) -> &'static ResourceDef {
        &resources::DEPLOYMENTS
    }

    fn keys_for(&self, ctx: &Ctx, change: &Change) -> Vec<ObjKey> {
        let obj = &change.object;
        let ns = meta_str(obj, "namespace");
        if std::ptr::eq(change.res, &resources::DEPLOYMENTS) {
            return vec![obj_key(obj)];
        }
        if std::ptr::eq(change.res, &resources::REPLICASETS) {
            let mut keys: Vec<ObjKey> = std::iter::once(obj)
                .chain(change.old.iter())
                .filter_map(|rs| wu::controller_name(rs, "Deployment"))
                .map(|n| (ns.to_string(), n.to_string()))
                .collect();
            keys.dedup();
            if wu::controller_ref(obj).is_none() && change.kind != ChangeType::Deleted {
                for d in ctx.store.list(&resources::DEPLOYMENTS, Some(ns)) {
                    if wu::workload_selector(&d).is_some_and(|s| s.matches(wu::labels(obj))) {
                        keys.push(obj_key(&d));
                    }
                }
            }
            return keys;
        }
        // Recreate waits for the old pods to be gone: their deletion matters.
        if std::ptr::eq(change.res, &resources::PODS) && change.kind == ChangeType::Deleted {
            let owner = wu::controller_name(obj, "ReplicaSet")
                .and_then(|rs| ctx.store.get(&resources::REPLICASETS, ns, rs));
            if let Some(d) = owner
                .as_deref()
                .and_then(|rs| wu::controller_name(rs, "Deployment"))
            {
                return vec![(ns.to_string(), d.to_string())];
            }
        }
        Vec::new()
    }

    fn reconcile(&self, ctx: &Ctx, key: &ObjKey) -> Option<Duration> {
        let d = ctx.store.get(&resources::DEPLOYMENTS, &key.0, &key.1)?;
        let mut sync = Sync {
            ctx,
            d: (*d).clone(),
            original: d,
            now: Utc::now(),
        };
        sync.run()
    }
}

/// One reconcile of one Deployment. `d` is the working copy whose status
/// and annotations are written back at the end; `original` is what was read.
struct Sync<'a> {
    ctx: &'a Ctx,
    d: Value,
    original: Arc<Value>,
    now: DateTime<Utc>,
}

fn spec_replicas(o: &Value) -> i64 {
    wu::int_field(&o["spec"]["replicas"], 1).max(0)
}

fn status_i64(o: &Value, f: &str) -> i64 {
    o["status"][f].as_i64().unwrap_or(0)
}

fn revision(rs: &Value) -> i64 {
    wu::annotation_i64(rs, REVISION).unwrap_or(0)
}

fn created(o: &Value) -> Option<DateTime<Utc>> {
    o["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(parse_time)
}

fn sort_by_creation(rss: &mut [Value]) {
    rss.sort_by(|a, b| {
        created(a)
            .cmp(&created(b))
            .then_with(|| meta_str(a, "name").cmp(meta_str(b, "name")))
    });
}

fn is_rolling(d: &Value) -> bool {
    d["spec"]["strategy"]["type"].as_str() != Some("Recreate")
}

/// kube's `ResolveFenceposts`: surge rounds up, unavailability down, and
/// both zero would deadlock, so unavailability becomes one.
fn fenceposts(d: &Value) -> (i64, i64) {
    let desired = spec_replicas(d);
    let ru = &d["spec"]["strategy"]["rollingUpdate"];
    let surge = wu::scaled_int_or_percent(&ru["maxSurge"], desired, true, "25%");
    let unavailable = wu::scaled_int_or_percent(&ru["maxUnavailable"], desired, false, "25%");
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

fn max_surge(d: &Value) -> i64 {
    if is_rolling(d) { fenceposts(d).0 } else { 0 }
}

fn max_unavailable(d: &Value) -> i64 {
    if !is_rolling(d) || spec_replicas(d) == 0 {
        return 0;
    }
    fenceposts(d).1.min(spec_replicas(d))
}

fn progress_deadline(d: &Value) -> Option<i64> {
    let s = wu::int_field(
        &d["spec"]["progressDeadlineSeconds"],
        DEFAULT_PROGRESS_DEADLINE,
    );
    (s != NO_DEADLINE).then_some(s)
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

fn find_condition<'v>(status: &'v Value, type_: &str) -> Option<&'v Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"].as_str() == Some(type_))
}

fn remove_condition(status: &mut Value, type_: &str) {
    if let Some(a) = status["conditions"].as_array_mut() {
        a.retain(|c| c["type"].as_str() != Some(type_));
    }
}

/// kube's `SetDeploymentCondition`: same status and reason is a no-op; the
/// transition time survives when only the reason changes; the condition
/// moves to the end.
fn set_condition(status: &mut Value, type_: &str, st: &str, reason: &str, msg: &str, now: &str) {
    let mut transition = now.to_string();
    if let Some(cur) = find_condition(status, type_) {
        if cur["status"] == st && cur["reason"] == reason {
            return;
        }
        if cur["status"] == st
            && let Some(t) = cur["lastTransitionTime"].as_str()
        {
            transition = t.to_string();
        }
    }
    remove_condition(status, type_);
    if !status["conditions"].is_array() {
        status["conditions"] = json!([]);
    }
    if let Some(a) = status["conditions"].as_array_mut() {
        a.push(json!({
            "type": type_,
            "status": st,
            "lastUpdateTime": now,
            "lastTransitionTime": transition,
            "reason": reason,
            "message": msg,
        }));
    }
}

impl Sync<'_> {
    fn ns(&self) -> String {
        meta_str(&self.d, "namespace").to_string()
    }

    fn name(&self) -> String {
        meta_str(&self.d, "name").to_string()
    }

    fn now_str(&self) -> String {
        fmt_time(self.now)
    }

    fn run(&mut self) -> Option<Duration> {
        let rss = self.claim_replicasets();
        if wu::is_terminating(&self.d) {
            let (new, olds) = self.new_and_old(rss, false);
            self.sync_status(new.as_ref(), &olds);
            return self.finish();
        }
        if wu::workload_selector(&self.d).is_none() {
            self.ctx.recorder.record(
                &self.original,
                events::WARNING,
                "SelectingAll",
                "This deployment is selecting all pods. A non-empty selector is required.",
                COMPONENT,
            );
            self.d["status"]["observedGeneration"] = self.d["metadata"]["generation"].clone();
            return self.finish();
        }
        self.check_paused_conditions();
        let paused = self.d["spec"]["paused"].as_bool() == Some(true);
        if paused || self.is_scaling_event(&rss) {
            let (new, mut olds) = self.new_and_old(rss, false);
            self.scale(new.clone(), &mut olds);
            if paused {
                self.cleanup(&olds);
            }
            self.sync_status(new.as_ref(), &olds);
            return self.finish();
        }
        if is_rolling(&self.d) {
            self.rollout_rolling(rss)
        } else {
            self.rollout_recreate(rss)
        }
    }

    /// The ReplicaSets this Deployment controls after adoption and release.
    fn claim_replicasets(&self) -> Vec<Value> {
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

    fn refresh(&self, rs: &Value) -> Option<Value> {
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
    fn new_and_old(&mut self, mut rss: Vec<Value>, create: bool) -> (Option<Value>, Vec<Value>) {
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
    fn new_rs_new_replicas(&self, olds: &[Value], new: &Value) -> i64 {
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

    fn is_scaling_event(&mut self, rss: &[Value]) -> bool {
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
    fn scale_rs(&self, rs: &mut Value, to: i64) -> bool {
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
    fn scale(&self, mut new: Option<Value>, olds: &mut [Value]) {
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

    fn rollout_rolling(&mut self, rss: Vec<Value>) -> Option<Duration> {
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

    fn rollout_recreate(&mut self, rss: Vec<Value>) -> Option<Duration> {
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

    /// kube's `cleanupDeployment`: old, empty, settled ReplicaSets beyond
    /// revisionHistoryLimit are deleted, lowest revisions first.
    fn cleanup(&self, olds: &[Value]) {
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

    fn check_paused_conditions(&mut self) {
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

    fn sync_status(&mut self, new: Option<&Value>, olds: &[Value]) {
        let new = new.and_then(|n| self.refresh(n));
        let olds: Vec<Value> = olds.iter().filter_map(|o| self.refresh(o)).collect();
        self.d["status"] = self.calculate_status(new.as_ref(), &olds);
    }

    /// kube's `DeploymentComplete` against a status.
    fn complete_per(&self, status: &Value) -> bool {
        let want = spec_replicas(&self.d);
        status["updatedReplicas"].as_i64().unwrap_or(0) == want
            && status["replicas"].as_i64().unwrap_or(0) == want
            && status["availableReplicas"].as_i64().unwrap_or(0) == want
            && status["observedGeneration"].as_i64().unwrap_or(0)
                >= self.d["metadata"]["generation"].as_i64().unwrap_or(1)
    }

    /// kube's `syncRolloutStatus`: counts plus the Progressing condition.
    fn sync_rollout_status(&mut self, new: Option<&Value>, olds: &[Value]) {
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
    fn progressing(&self, new: &Value) -> bool {
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

    /// Writes status and the revision annotation if they changed, and says
    /// when to look again for a progress deadline.
    fn finish(&mut self) -> Option<Duration> {
        let status = self.d["status"].clone();
        let rev = self.d["metadata"]["annotations"][REVISION].clone();
        if status != self.original["status"]
            || rev != self.original["metadata"]["annotations"][REVISION]
        {
            let _ = self
                .ctx
                .store
                .modify(&resources::DEPLOYMENTS, &self.ns(), &self.name(), |o| {
                    o["status"] = status.clone();
                    if let Some(r) = rev.as_str() {
                        wu::set_annotation(o, REVISION, r);
                    }
                });
        }
        self.requeue_after(&status)
    }

    /// kube's `requeueStuckDeployment`: wake up when the deadline passes.
    fn requeue_after(&self, status: &Value) -> Option<Duration> {
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

fn meta_str_ann(o: &Value, key: &str) -> String {
    o["metadata"]["annotations"][key]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::replicaset;
    use crate::controllers::replicaset::tests::{ctx, make_ready, ns, pods_of};

    fn deployment(ctx: &Ctx, replicas: i64, strategy: Value) -> Value {
        ns(ctx, "default");
        (*ctx
            .store
            .create(
                &resources::DEPLOYMENTS,
                json!({"metadata": {"name": "web", "namespace": "default",
                                    "annotations": {"kubernetes.io/change-cause": "first"}},
                       "spec": {"replicas": replicas,
                                "strategy": strategy,
                                "selector": {"matchLabels": {"app": "web"}},
                                "template": {"metadata": {"labels": {"app": "web"}},
                                             "spec": {"restartPolicy": "Always",
                                                      "containers": [{"name": "c", "image": "nginx:1"}]}}}}),
            )
            .unwrap())
        .clone()
    }

    fn rolling(surge: Value, unavailable: Value) -> Value {
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
    }

    /// Runs the deployment and replicaset controllers until nothing moves.
    fn settle(ctx: &Ctx) {
        let dc = DeploymentController;
        let rc = replicaset::controllers().remove(0);
        for _ in 0..10 {
            let before = ctx.store.resource_version();
            for rs in ctx.store.list(&resources::REPLICASETS, None) {
                rc.reconcile(ctx, &obj_key(&rs));
            }
            for d in ctx.store.list(&resources::DEPLOYMENTS, None) {
                dc.reconcile(ctx, &obj_key(&d));
            }
            if ctx.store.resource_version() == before {
                return;
            }
        }
    }

    fn replicasets(ctx: &Ctx) -> Vec<Value> {
        let mut v: Vec<Value> = ctx
            .store
            .list(&resources::REPLICASETS, Some("default"))
            .into_iter()
            .map(|o| (*o).clone())
            .collect();
        // Oldest first; creation times have one-second resolution.
        v.sort_by_key(revision_first_seen);
        v
    }

    /// A ReplicaSet's first revision: its history's first entry, else its
    /// revision.
    fn revision_first_seen(rs: &Value) -> i64 {
        rs["metadata"]["annotations"][REVISION_HISTORY]
            .as_str()
            .and_then(|h| h.split(',').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| revision(rs))
    }

    fn ready_all(ctx: &Ctx) {
        for p in ctx.store.list(&resources::PODS, Some("default")) {
            if !wu::pod_is_ready(&p) && !wu::is_terminating(&p) {
                make_ready(ctx, &p, 1);
            }
        }
        settle(ctx);
    }

    fn set_image(ctx: &Ctx, image: &str) {
        ctx.store
            .modify(&resources::DEPLOYMENTS, "default", "web", |d| {
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
            })
            .unwrap();
    }

    fn get_d(ctx: &Ctx) -> Arc<Value> {
        ctx.store
            .get(&resources::DEPLOYMENTS, "default", "web")
            .unwrap()
    }

    fn sizes(ctx: &Ctx) -> Vec<i64> {
        replicasets(ctx).iter().map(spec_replicas).collect()
    }

    fn progressing(d: &Value) -> (String, String, String) {
        let c = find_condition(&d["status"], "Progressing").unwrap();
        (
            c["status"].as_str().unwrap().to_string(),
            c["reason"].as_str().unwrap().to_string(),
            c["message"].as_str().unwrap().to_string(),
        )
    }

    #[test]
    fn creates_a_hash_named_replicaset_with_revision_annotations() {
        let ctx = ctx();
        let d = deployment(&ctx, 3, rolling(json!("25%"), json!("25%")));
        settle(&ctx);
        let rss = replicasets(&ctx);
        assert_eq!(rss.len(), 1);
        let rs = &rss[0];
        let hash = wu::stable_hash(&d["spec"]["template"], None);
        assert_eq!(meta_str(rs, "name"), format!("web-{hash}"));
        assert_eq!(rs["metadata"]["labels"]["pod-template-hash"], hash.as_str());
        assert_eq!(
            rs["spec"]["selector"]["matchLabels"]["pod-template-hash"],
            hash.as_str()
        );
        let ann = &rs["metadata"]["annotations"];
        assert_eq!(ann[REVISION], "1");
        assert_eq!(ann[DESIRED_REPLICAS], "3");
        assert_eq!(ann[MAX_REPLICAS], "4");
        assert_eq!(ann["kubernetes.io/change-cause"], "first");
        assert_eq!(spec_replicas(rs), 3);
        assert_eq!(pods_of(&ctx, "default", meta_str(rs, "uid")).len(), 3);
        let d = get_d(&ctx);
        assert_eq!(d["metadata"]["annotations"][REVISION], "1");
        assert_eq!(d["status"]["updatedReplicas"], 3);
        let scaled = ctx
            .store
            .list(&resources::EVENTS, Some("default"))
            .into_iter()
            .any(|e| e["message"] == format!("Scaled up replica set web-{hash} from 0 to 3"));
        assert!(scaled);

        ready_all(&ctx);
        let d = get_d(&ctx);
        assert_eq!(d["status"]["availableReplicas"], 3);
        let (st, reason, msg) = progressing(&d);
        assert_eq!(
            (st.as_str(), reason.as_str()),
            ("True", "NewReplicaSetAvailable")
        );
        assert_eq!(
            msg,
            format!("ReplicaSet \"web-{hash}\" has successfully progressed.")
        );
        let avail = find_condition(&d["status"], "Available").unwrap();
        assert_eq!(avail["reason"], "MinimumReplicasAvailable");

        // Same template, fresh cluster: same name.
        let other = super::super::replicaset::tests::ctx();
        deployment(&other, 3, rolling(json!("25%"), json!("25%")));
        settle(&other);
        assert_eq!(
            meta_str(&replicasets(&other)[0], "name"),
            format!("web-{hash}")
        );
    }

    #[test]
    fn rolling_update_honours_surge_and_unavailability() {
        let ctx = ctx();
        deployment(&ctx, 4, rolling(json!(1), json!(0)));
        settle(&ctx);
        ready_all(&ctx);
        set_image(&ctx, "nginx:2");
        settle(&ctx);
        // maxUnavailable 0: only the surge pod may be added.
        assert_eq!(sizes(&ctx), vec![4, 1]);
        let d = get_d(&ctx);
        assert_eq!(progressing(&d).1, "ReplicaSetUpdated");
        assert_eq!(d["metadata"]["annotations"][REVISION], "2");
        for step in [vec![3, 2], vec![2, 3], vec![1, 4], vec![0, 4]] {
            ready_all(&ctx);
            assert_eq!(sizes(&ctx), step);
        }
        ready_all(&ctx);
        let d = get_d(&ctx);
        assert_eq!(d["status"]["updatedReplicas"], 4);
        assert_eq!(d["status"]["availableReplicas"], 4);
        assert_eq!(progressing(&d).1, "NewReplicaSetAvailable");
        let rss = replicasets(&ctx);
        assert_eq!(rss[1]["metadata"]["annotations"][REVISION], "2");
    }

    #[test]
    fn max_unavailable_lets_old_replicas_go_before_new_ones_are_ready() {
        let ctx = ctx();
        deployment(&ctx, 4, rolling(json!(0), json!(2)));
        settle(&ctx);
        ready_all(&ctx);
        set_image(&ctx, "nginx:2");
        settle(&ctx);
        // No surge: old scaled down by 2 first, then new scaled up into the room.
        assert_eq!(sizes(&ctx), vec![2, 2]);
    }

    #[test]
    fn recreate_waits_for_old_pods_to_be_gone() {
        let ctx = ctx();
        deployment(&ctx, 2, json!({"type": "Recreate"}));
        settle(&ctx);
        ready_all(&ctx);
        set_image(&ctx, "nginx:2");
        settle(&ctx);
        assert_eq!(sizes(&ctx), vec![0]);
        // Scheduled pods terminate gracefully: still there, so no new RS yet.
        assert_eq!(replicasets(&ctx).len(), 1);
        for p in ctx.store.list(&resources::PODS, Some("default")) {
            ctx.store
                .remove(&resources::PODS, "default", meta_str(&p, "name"));
        }
        settle(&ctx);
        assert_eq!(sizes(&ctx), vec![0, 2]);
        assert_eq!(ctx.store.list(&resources::PODS, Some("default")).len(), 2);
    }

    #[test]
    fn rollback_reuses_the_old_replicaset_with_a_new_revision() {
        let ctx = ctx();
        deployment(&ctx, 1, rolling(json!(1), json!(0)));
        settle(&ctx);
        ready_all(&ctx);
        let first = meta_str(&replicasets(&ctx)[0], "name").to_string();
        set_image(&ctx, "nginx:2");
        for _ in 0..3 {
            ready_all(&ctx);
        }
        // What `kubectl rollout undo` does: the old template, hash label removed.
        let mut old_template = ctx
            .store
            .get(&resources::REPLICASETS, "default", &first)
            .unwrap()["spec"]["template"]
            .clone();
        if let Some(l) = old_template["metadata"]["labels"].as_object_mut() {
            l.remove("pod-template-hash");
        }
        ctx.store
            .modify(&resources::DEPLOYMENTS, "default", "web", |d| {
                d["spec"]["template"] = old_template
            })
            .unwrap();
        for _ in 0..3 {
            ready_all(&ctx);
        }
        let rss = replicasets(&ctx);
        assert_eq!(rss.len(), 2);
        let back = ctx
            .store
            .get(&resources::REPLICASETS, "default", &first)
            .unwrap();
        assert_eq!(back["metadata"]["annotations"][REVISION], "3");
        assert_eq!(back["metadata"]["annotations"][REVISION_HISTORY], "1");
        assert_eq!(spec_replicas(&back), 1);
        assert_eq!(get_d(&ctx)["metadata"]["annotations"][REVISION], "3");
        assert_eq!(sizes(&ctx).iter().sum::<i64>(), 1);
    }

    #[test]
    fn a_stuck_rollout_exceeds_its_progress_deadline() {
        let ctx = ctx();
        deployment(&ctx, 2, rolling(json!("25%"), json!("25%")));
        settle(&ctx);
        let d = get_d(&ctx);
        let (st, _, _) = progressing(&d);
        assert_eq!(st, "True");
        // The pods never get Ready; pretend the last progress was long ago.
        let long_ago = fmt_time(Utc::now() - chrono::Duration::seconds(601));
        ctx.store
            .modify(&resources::DEPLOYMENTS, "default", "web", |d| {
                for c in d["status"]["conditions"].as_array_mut().unwrap() {
                    c["lastUpdateTime"] = json!(long_ago);
                }
            })
            .unwrap();
        let after = DeploymentController.reconcile(&ctx, &("default".into(), "web".into()));
        assert!(after.is_none());
        let d = get_d(&ctx);
        let rs = meta_str(&replicasets(&ctx)[0], "name").to_string();
        assert_eq!(
            progressing(&d),
            (
                "False".to_string(),
                "ProgressDeadlineExceeded".to_string(),
                format!("ReplicaSet \"{rs}\" has timed out progressing.")
            )
        );
        let avail = find_condition(&d["status"], "Available").unwrap();
        assert_eq!(avail["status"], "False");
    }

    #[test]
    fn scaling_a_settled_deployment_resizes_its_only_replicaset() {
        let ctx = ctx();
        deployment(&ctx, 2, rolling(json!("25%"), json!("25%")));
        settle(&ctx);
        ready_all(&ctx);
        ctx.store
            .modify(&resources::DEPLOYMENTS, "default", "web", |d| {
                d["spec"]["replicas"] = json!(5)
            })
            .unwrap();
        settle(&ctx);
        assert_eq!(sizes(&ctx), vec![5]);
        let rs = &replicasets(&ctx)[0];
        assert_eq!(rs["metadata"]["annotations"][DESIRED_REPLICAS], "5");
        assert_eq!(rs["metadata"]["annotations"][REVISION], "1");
    }

    #[test]
    fn paused_deployments_do_not_roll_out() {
        let ctx = ctx();
        deployment(&ctx, 2, rolling(json!("25%"), json!("25%")));
        settle(&ctx);
        ready_all(&ctx);
        ctx.store
            .modify(&resources::DEPLOYMENTS, "default", "web", |d| {
                d["spec"]["paused"] = json!(true);
                d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
            })
            .unwrap();
        settle(&ctx);
        assert_eq!(replicasets(&ctx).len(), 1);
        assert_eq!(progressing(&get_d(&ctx)).1, "DeploymentPaused");
        ctx.store
            .modify(&resources::DEPLOYMENTS, "default", "web", |d| {
                d["spec"]["paused"] = json!(false)
            })
            .unwrap();
        settle(&ctx);
        assert_eq!(replicasets(&ctx).len(), 2);
        let (st, reason, _) = progressing(&get_d(&ctx));
        assert_eq!(st, "True");
        assert_ne!(reason, "DeploymentResumed");
    }
}
