//! The runbook file format as serde reads it. Every key is checked
//! (`deny_unknown_fields`), and every value that may hold a `${variable}`
//! is read as text, then typed after substitution (see `validate`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A scalar as text: `replicas: 3` and `replicas: "${n}"` both read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRunbook {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The namespace of steps that name none.
    #[serde(default)]
    pub namespace: Option<Text>,
    /// name → default, overridden with `--var name=value`.
    #[serde(default)]
    pub variables: BTreeMap<String, Text>,
    /// Typed one by one, so that every step's error is reported.
    pub steps: Vec<serde_norway::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawStep {
    pub id: String,
    pub name: String,
    pub note: Option<String>,
    #[serde(default, with = "serde_norway::with::singleton_map")]
    pub check: Option<RawCondition>,
    pub show: Option<RawShow>,
    #[serde(default, with = "serde_norway::with::singleton_map")]
    pub action: Option<RawAction>,
    pub wait: Option<RawWait>,
    pub confirm: Option<Text>,
    pub branch: Option<RawBranch>,
}

impl RawStep {
    /// The kinds present, by their key.
    pub fn kinds(&self) -> Vec<&'static str> {
        [
            ("note", self.note.is_some()),
            ("check", self.check.is_some()),
            ("show", self.show.is_some()),
            ("action", self.action.is_some()),
            ("wait", self.wait.is_some()),
            ("confirm", self.confirm.is_some()),
            ("branch", self.branch.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, present)| present.then_some(k))
        .collect()
    }
}

/// What a `check` tests and a `wait` waits for.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub(crate) enum RawCondition {
    /// `query op threshold` for every series the query returns.
    Promql {
        query: Text,
        op: Text,
        threshold: Text,
    },
    /// At least `ready` Ready replicas; without `ready`, the rollout is
    /// complete: every replica updated, available and no old one left.
    DeploymentReady {
        deployment: Text,
        namespace: Option<Text>,
        ready: Option<Text>,
    },
    NoCrashLoop {
        namespace: Option<Text>,
        selector: Option<Text>,
    },
    HpaAtMax {
        hpa: Text,
        namespace: Option<Text>,
    },
    /// The HPA runs more replicas than its minimum: a state, which may
    /// hold before the step begins.
    HpaAboveMin {
        hpa: Text,
        namespace: Option<Text>,
    },
    /// A change: the HPA runs more replicas (and more than its minimum)
    /// than when the step began; inconclusive when it began at its maximum.
    /// Only in a `wait`.
    HpaScaledUp {
        hpa: Text,
        namespace: Option<Text>,
    },
    /// Progressing=False (ProgressDeadlineExceeded), or a new pod that
    /// cannot pull its image.
    RolloutStalled {
        deployment: Text,
        namespace: Option<Text>,
    },
    /// The newest Job of the CronJob completed.
    LastJobSucceeded {
        cronjob: Text,
        namespace: Option<Text>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawShow {
    pub view: Text,
    pub namespace: Option<Text>,
    pub filter: Option<Text>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case"
)]
pub(crate) enum RawAction {
    Scale {
        target: Text,
        namespace: Option<Text>,
        replicas: Text,
    },
    Restart {
        target: Text,
        namespace: Option<Text>,
    },
    SetImage {
        target: Text,
        namespace: Option<Text>,
        container: Option<Text>,
        image: Text,
    },
    Rollback {
        target: Text,
        namespace: Option<Text>,
        to_revision: Option<Text>,
    },
    /// One pod: by name, or the first Ready pod of a workload.
    KillPod {
        target: Option<Text>,
        pod: Option<Text>,
        namespace: Option<Text>,
        force: Option<Text>,
    },
    Cordon {
        node: Text,
    },
    Uncordon {
        node: Text,
    },
    /// Runs the CronJob now and waits for its Job.
    Backup {
        cronjob: Text,
        namespace: Option<Text>,
        timeout: Option<Text>,
    },
    /// Kills one pod of the workload and times the recovery.
    RecoveryTest {
        target: Text,
        namespace: Option<Text>,
        slo: Option<Text>,
        min_ready: Option<Text>,
        force: Option<Text>,
    },
    /// Sets (or, with a null value, removes) an annotation: the simulator's
    /// load and HPA knobs are annotations.
    Annotate {
        target: Text,
        namespace: Option<Text>,
        key: Text,
        value: Option<Text>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawWait {
    #[serde(with = "serde_norway::with::singleton_map")]
    pub until: RawCondition,
    pub timeout: Text,
    pub interval: Option<Text>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawBranch {
    /// The id of an earlier check or wait step.
    pub on: Text,
    pub if_passed: Option<Text>,
    pub if_failed: Option<Text>,
    /// Where to go when the step was inconclusive (a PromQL check without
    /// Prometheus) or has not run. A run that took this way ends
    /// incomplete, not succeeded.
    pub if_skipped: Option<Text>,
}
