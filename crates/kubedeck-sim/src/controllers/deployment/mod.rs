//! The Deployment controller (`deployment-controller`): one ReplicaSet per
//! pod-template hash, rolled over with the RollingUpdate or Recreate
//! strategy, revisions in annotations, and the Available/Progressing
//! conditions `kubectl rollout status` reads — following kube's
//! `pkg/controller/deployment` step for step.

mod progress;
mod replicasets;
mod rollout;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::workload_util as wu;
use super::{Controller, Ctx};
use crate::events;
use crate::resources::{self, ResourceDef};
use crate::store::{Change, ChangeType, Obj, ObjKey, fmt_time, meta_str, obj_key, parse_time};

const COMPONENT: &str = "deployment-controller";
pub(crate) const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// What a Deployment without `progressDeadlineSeconds` gets by defaulting.
const DEFAULT_PROGRESS_DEADLINE: i64 = 600;
/// kube's "no deadline" sentinel (math.MaxInt32).
const NO_DEADLINE: i64 = i32::MAX as i64;

pub(crate) fn controllers() -> Vec<Arc<dyn Controller>> {
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
    original: Obj,
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::replicaset;
    use crate::test_support::{make_ready, test_ctx};

    fn deployment(ctx: &Ctx, replicas: i64, strategy: Value) -> Value {
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

    fn get_d(ctx: &Ctx) -> Obj {
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
        let ctx = test_ctx(&["default"]);
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
        assert_eq!(
            wu::owned(&ctx, &resources::PODS, "default", meta_str(rs, "uid")).len(),
            3
        );
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
        let other = test_ctx(&["default"]);
        deployment(&other, 3, rolling(json!("25%"), json!("25%")));
        settle(&other);
        assert_eq!(
            meta_str(&replicasets(&other)[0], "name"),
            format!("web-{hash}")
        );
    }

    #[test]
    fn rolling_update_honours_surge_and_unavailability() {
        let ctx = test_ctx(&["default"]);
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
        let ctx = test_ctx(&["default"]);
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
        let ctx = test_ctx(&["default"]);
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
        let ctx = test_ctx(&["default"]);
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
        let ctx = test_ctx(&["default"]);
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
        let ctx = test_ctx(&["default"]);
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
        let ctx = test_ctx(&["default"]);
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
