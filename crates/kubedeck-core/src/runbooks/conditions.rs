//! Evaluating a `check` or `wait` condition against the cluster (or
//! Prometheus), with a one-line account of what was seen. A condition that
//! claims a change (`hpa-scaled-up`) compares with the state when its step
//! began, so a state that already held does not pass for the change.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams};

use super::model::{Condition, Op};
use crate::actions::ObjectRef;

/// What a condition evaluated to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Eval {
    Holds(String),
    DoesNotHold(String),
    /// kubedeck cannot tell (no Prometheus to ask, a change that cannot be
    /// observed): neither a pass nor a failure.
    Inconclusive(String),
}

impl Eval {
    #[cfg(test)]
    fn holds(&self) -> bool {
        matches!(self, Eval::Holds(_))
    }

    pub fn detail(&self) -> &str {
        match self {
            Eval::Holds(s) | Eval::DoesNotHold(s) | Eval::Inconclusive(s) => s,
        }
    }
}

/// The state a change condition compares with: what its first evaluation
/// in the step saw. A new one for each run of a step.
#[derive(Debug, Default)]
pub(crate) struct Baseline(Option<i32>);

/// Why a PromQL check cannot be evaluated, naming every way to give a
/// Prometheus.
pub(crate) const NO_PROMETHEUS: &str = "inconclusive: no Prometheus to ask. Give one with --prometheus URL, with `prometheus = \"URL\"` under [contexts.NAME] in config.toml, or with `url` under [metrics.prometheus] there";

fn verdict(holds: bool, detail: String) -> Eval {
    if holds {
        Eval::Holds(detail)
    } else {
        Eval::DoesNotHold(detail)
    }
}

/// Evaluates once. An error is a failed request (not found, forbidden,
/// unreachable), which a `wait` retries until its timeout.
pub(crate) async fn evaluate(
    client: &Client,
    prometheus: Option<&str>,
    cond: &Condition,
    baseline: &mut Baseline,
) -> Result<Eval, String> {
    match cond {
        Condition::Promql {
            query,
            op,
            threshold,
        } => match prometheus {
            None => Ok(Eval::Inconclusive(NO_PROMETHEUS.into())),
            Some(url) => promql(url, query, *op, *threshold).await,
        },
        Condition::DeploymentReady { target, ready } => {
            let d = get::<Deployment>(client, target).await?;
            Ok(deployment_ready(&d, *ready))
        }
        Condition::NoCrashLoop {
            namespace,
            selector,
        } => {
            let mut lp = ListParams::default();
            if let Some(s) = selector {
                lp = lp.labels(s);
            }
            let pods = Api::<Pod>::namespaced(client.clone(), namespace)
                .list(&lp)
                .await
                .map_err(|e| format!("cannot list pods in {namespace}: {e}"))?;
            Ok(no_crash_loop(&pods.items))
        }
        Condition::HpaAtMax(h) => {
            let hpa = get::<HorizontalPodAutoscaler>(client, h).await?;
            let (current, min, max) = hpa_numbers(&hpa);
            Ok(verdict(
                current >= max,
                format!("hpa/{}: {current} replicas, bounds {min}–{max}", h.name),
            ))
        }
        Condition::HpaAboveMin(h) => {
            let hpa = get::<HorizontalPodAutoscaler>(client, h).await?;
            let (current, min, max) = hpa_numbers(&hpa);
            Ok(verdict(
                current > min,
                format!("hpa/{}: {current} replicas, bounds {min}–{max}", h.name),
            ))
        }
        Condition::HpaScaledUp(h) => {
            let hpa = get::<HorizontalPodAutoscaler>(client, h).await?;
            Ok(scaled_up(&h.name, &hpa, baseline))
        }
        Condition::RolloutStalled(d) => {
            let dep = get::<Deployment>(client, d).await?;
            let selector = dep
                .spec
                .as_ref()
                .and_then(|s| s.selector.match_labels.as_ref())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let pods = Api::<Pod>::namespaced(client.clone(), &d.namespace)
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| format!("cannot list pods in {}: {e}", d.namespace))?;
            Ok(rollout_stalled(&dep, &pods.items))
        }
        Condition::LastJobSucceeded(c) => {
            let jobs = Api::<Job>::namespaced(client.clone(), &c.namespace)
                .list(&ListParams::default())
                .await
                .map_err(|e| format!("cannot list jobs in {}: {e}", c.namespace))?;
            Ok(last_job_succeeded(&c.name, &jobs.items))
        }
    }
}

async fn get<K>(client: &Client, obj: &ObjectRef) -> Result<K, String>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    Api::<K>::namespaced(client.clone(), &obj.namespace)
        .get(&obj.name)
        .await
        .map_err(|e| {
            format!(
                "cannot read {}/{} in {}: {e}",
                K::kind(&K::DynamicType::default()).to_lowercase(),
                obj.name,
                obj.namespace
            )
        })
}

async fn promql(url: &str, query: &str, op: Op, threshold: f64) -> Result<Eval, String> {
    use prometheus_http_query::response::Data;
    // Errors quote the URL, and reqwest's quote it again: no password.
    let masked = |e: String| crate::redact::mask_passwords(&e).into_owned();
    let client = prometheus_http_query::Client::try_from(url)
        .map_err(|e| masked(format!("bad Prometheus URL {url:?}: {e}")))?;
    let result = client
        .query(query)
        .get()
        .await
        .map_err(|e| masked(format!("Prometheus at {url}: {e}")))?;
    let values: Vec<(String, f64)> = match result.data() {
        Data::Vector(v) => v
            .iter()
            .map(|s| {
                let mut labels: Vec<String> = s
                    .metric()
                    .iter()
                    .filter(|(k, _)| k.as_str() != "__name__")
                    .map(|(k, v)| format!("{k}={v:?}"))
                    .collect();
                labels.sort();
                (format!("{{{}}}", labels.join(",")), s.sample().value())
            })
            .collect(),
        Data::Scalar(s) => vec![(String::new(), s.value())],
        Data::Matrix(_) => {
            return Err("the query returns a range vector; a check needs an instant vector".into());
        }
    };
    Ok(promql_verdict(&values, op, threshold))
}

/// Alerting semantics: the condition holds when any series satisfies it.
fn promql_verdict(values: &[(String, f64)], op: Op, threshold: f64) -> Eval {
    if values.is_empty() {
        return Eval::DoesNotHold("the query returned no series".into());
    }
    let hits: Vec<String> = values
        .iter()
        .filter(|(_, v)| op.holds(*v, threshold))
        .map(|(l, v)| format!("{l} {v}"))
        .collect();
    if hits.is_empty() {
        let shown: Vec<String> = values
            .iter()
            .take(5)
            .map(|(l, v)| format!("{l} {v}"))
            .collect();
        Eval::DoesNotHold(format!(
            "no series {} {threshold}: {}",
            op.symbol(),
            shown.join("; ")
        ))
    } else {
        Eval::Holds(hits.join("; "))
    }
}

fn deployment_ready(d: &Deployment, ready: Option<i32>) -> Eval {
    let name = d.metadata.name.clone().unwrap_or_default();
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let st = d.status.clone().unwrap_or_default();
    let ready_n = st.ready_replicas.unwrap_or(0);
    match ready {
        Some(n) => verdict(
            ready_n >= n,
            format!("deployment/{name}: {ready_n} Ready (wanted {n})"),
        ),
        None => {
            let updated = st.updated_replicas.unwrap_or(0);
            let available = st.available_replicas.unwrap_or(0);
            let total = st.replicas.unwrap_or(0);
            let observed =
                st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
            verdict(
                observed
                    && updated == desired
                    && available == desired
                    && ready_n == desired
                    && total == desired,
                format!(
                    "deployment/{name}: {ready_n}/{desired} Ready, {updated} updated, {available} available, {total} pods"
                ),
            )
        }
    }
}

fn waiting_reasons(pod: &Pod) -> Vec<String> {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn no_crash_loop(pods: &[Pod]) -> Eval {
    let looping: Vec<String> = pods
        .iter()
        .filter(|p| waiting_reasons(p).iter().any(|r| r == "CrashLoopBackOff"))
        .filter_map(|p| p.metadata.name.clone())
        .collect();
    if looping.is_empty() {
        Eval::Holds(format!("{} pods, none in CrashLoopBackOff", pods.len()))
    } else {
        Eval::DoesNotHold(format!("in CrashLoopBackOff: {}", looping.join(", ")))
    }
}

fn hpa_numbers(hpa: &HorizontalPodAutoscaler) -> (i32, i32, i32) {
    let spec = hpa.spec.as_ref();
    let min = spec.and_then(|s| s.min_replicas).unwrap_or(1);
    let max = spec.map_or(0, |s| s.max_replicas);
    let current = hpa
        .status
        .as_ref()
        .and_then(|s| s.current_replicas)
        .unwrap_or(0);
    (current, min, max)
}

/// The HPA runs more replicas (its `currentReplicas`, what the target has)
/// than when the step began, and more than its minimum. At its maximum
/// already, no scale-up can be seen: inconclusive.
fn scaled_up(name: &str, hpa: &HorizontalPodAutoscaler, baseline: &mut Baseline) -> Eval {
    let (now, min, max) = hpa_numbers(hpa);
    let Some(then) = baseline.0 else {
        baseline.0 = Some(now);
        if now >= max {
            return Eval::Inconclusive(format!(
                "inconclusive: hpa/{name} was already at its maximum ({max} replicas) when the step began, so no scale-up can be seen"
            ));
        }
        return Eval::DoesNotHold(format!(
            "hpa/{name}: {now} replicas when the step began, bounds {min}–{max}"
        ));
    };
    verdict(
        now > then && now > min,
        format!("hpa/{name}: {then} → {now} replicas, bounds {min}–{max}"),
    )
}

fn rollout_stalled(d: &Deployment, pods: &[Pod]) -> Eval {
    let name = d.metadata.name.clone().unwrap_or_default();
    let deadline = d
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| {
            cs.iter().find(|c| {
                c.type_ == "Progressing"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
            })
        });
    if let Some(c) = deadline {
        return Eval::Holds(format!(
            "deployment/{name}: ProgressDeadlineExceeded: {}",
            c.message.clone().unwrap_or_default()
        ));
    }
    let pulling: Vec<String> = pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| {
            let reason = waiting_reasons(p)
                .into_iter()
                .find(|r| r == "ImagePullBackOff" || r == "ErrImagePull")?;
            Some(format!(
                "{} {reason}",
                p.metadata.name.clone().unwrap_or_default()
            ))
        })
        .collect();
    if pulling.is_empty() {
        Eval::DoesNotHold(format!("deployment/{name} is progressing"))
    } else {
        Eval::Holds(format!("deployment/{name}: {}", pulling.join(", ")))
    }
}

fn last_job_succeeded(cronjob: &str, jobs: &[Job]) -> Eval {
    let newest = jobs
        .iter()
        .filter(|j| {
            j.metadata
                .owner_references
                .as_ref()
                .is_some_and(|os| os.iter().any(|o| o.kind == "CronJob" && o.name == cronjob))
        })
        .max_by_key(|j| j.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let Some(job) = newest else {
        return Eval::DoesNotHold(format!("cronjob/{cronjob} has no job"));
    };
    let name = job.metadata.name.clone().unwrap_or_default();
    let condition = |t: &str| {
        job.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == t && c.status == "True"))
    };
    if condition("Complete").is_some() {
        Eval::Holds(format!("job/{name} completed"))
    } else if let Some(c) = condition("Failed") {
        Eval::DoesNotHold(format!(
            "job/{name} failed: {}",
            c.message.clone().unwrap_or_default()
        ))
    } else {
        Eval::DoesNotHold(format!("job/{name} has not finished"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_rollout_is_complete_only_when_every_replica_is_new_and_ready() {
        let d = |updated: i32, total: i32| -> Deployment {
            from(json!({
                "metadata": {"name": "web", "generation": 3},
                "spec": {"replicas": 2, "selector": {}, "template": {}},
                "status": {"observedGeneration": 3, "replicas": total, "updatedReplicas": updated,
                           "readyReplicas": 2, "availableReplicas": 2}
            }))
        };
        assert!(deployment_ready(&d(2, 2), None).holds());
        assert!(!deployment_ready(&d(1, 3), None).holds());
        assert!(deployment_ready(&d(1, 3), Some(2)).holds());
        assert!(!deployment_ready(&d(2, 2), Some(3)).holds());
    }

    #[test]
    fn a_stall_is_a_deadline_or_an_image_pull_back_off() {
        let dep: Deployment = from(json!({"metadata": {"name": "web"}}));
        let pod = |reason: &str| -> Pod {
            from(
                json!({"metadata": {"name": "web-1"}, "status": {"containerStatuses": [
                {"name": "web", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": reason}}}]}}),
            )
        };
        assert!(!rollout_stalled(&dep, &[pod("ContainerCreating")]).holds());
        assert!(rollout_stalled(&dep, &[pod("ImagePullBackOff")]).holds());
        assert!(no_crash_loop(&[pod("ImagePullBackOff")]).holds());
        assert!(!no_crash_loop(&[pod("CrashLoopBackOff")]).holds());
        let stalled: Deployment = from(
            json!({"metadata": {"name": "web"}, "status": {"conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}}),
        );
        assert!(rollout_stalled(&stalled, &[]).holds());
    }

    #[test]
    fn only_the_newest_job_of_the_cronjob_counts() {
        let job = |name: &str, owner: &str, at: &str, cond: &str| -> Job {
            from(json!({"metadata": {"name": name, "creationTimestamp": at,
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": owner, "uid": "u"}]},
                "status": {"conditions": [{"type": cond, "status": "True"}]}}))
        };
        let jobs = [
            job("b-1", "backup", "2026-01-01T00:00:00Z", "Complete"),
            job("b-2", "backup", "2026-01-02T00:00:00Z", "Failed"),
            job("o-1", "other", "2026-01-03T00:00:00Z", "Complete"),
        ];
        let e = last_job_succeeded("backup", &jobs);
        assert!(!e.holds());
        assert!(e.detail().contains("b-2"));
        assert!(last_job_succeeded("other", &jobs).holds());
        assert!(!last_job_succeeded("none", &jobs).holds());
    }

    #[test]
    fn a_scale_up_is_seen_only_after_the_step_began() {
        let hpa = |desired: i32| -> HorizontalPodAutoscaler {
            from(json!({"metadata": {"name": "api"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"},
                         "minReplicas": 2, "maxReplicas": 10},
                "status": {"currentReplicas": desired, "desiredReplicas": desired}}))
        };
        // Above the minimum already, as on a second run: not a scale-up.
        let mut b = Baseline::default();
        assert!(!scaled_up("api", &hpa(5), &mut b).holds());
        assert!(!scaled_up("api", &hpa(5), &mut b).holds());
        let up = scaled_up("api", &hpa(7), &mut b);
        assert!(up.holds());
        assert_eq!(up.detail(), "hpa/api: 5 → 7 replicas, bounds 2–10");
        // At the maximum, a scale-up cannot be seen at all.
        let mut b = Baseline::default();
        let at_max = scaled_up("api", &hpa(10), &mut b);
        assert!(matches!(at_max, Eval::Inconclusive(_)), "{at_max:?}");
        assert!(at_max.detail().contains("already at its maximum"));
    }

    #[test]
    fn promql_holds_when_any_series_crosses() {
        let v = vec![
            ("{pod=\"a\"}".to_string(), 0.02),
            ("{pod=\"b\"}".to_string(), 0.2),
        ];
        assert!(promql_verdict(&v, Op::Gt, 0.1).holds());
        assert!(!promql_verdict(&v, Op::Gt, 0.5).holds());
        assert!(!promql_verdict(&[], Op::Lt, 1.0).holds());
    }
}
