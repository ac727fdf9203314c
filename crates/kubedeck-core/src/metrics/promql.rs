//! PromQL templates for the sparklines, their defaults, and the escaping
//! that keeps object names from injecting PromQL.
//!
//! A template is PromQL with placeholders:
//!
//! | placeholder | expands to |
//! |---|---|
//! | `$namespace` | the namespace, escaped for a `"..."` string |
//! | `$names` | the visible objects' names as a regex alternation, for `=~"$names"` |
//! | `$pods` | a regex of the pods of those objects, its group 1 the object's name (workloads); for pods the same as `$names` |
//! | `$kind` | the label that names the object: `deployment`, `statefulset`, `pod` or `horizontalpodautoscaler` |
//! | `$rate` | the range of `rate()`: two steps of the chart (so no sample is skipped), at least 1m |
//!
//! One query serves a whole view: results are matched to objects by the
//! `$kind` label, so templates aggregate `by ($kind)`. `$1`, `$2`… (as in
//! `label_replace`) are PromQL's own and are left alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The kinds of object a view shows metrics for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Deployment,
    StatefulSet,
    Pod,
    Hpa,
}

impl ObjectKind {
    /// The label kube-state-metrics (and the default templates) name an
    /// object of this kind by.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Deployment => "deployment",
            ObjectKind::StatefulSet => "statefulset",
            ObjectKind::Pod => "pod",
            ObjectKind::Hpa => "horizontalpodautoscaler",
        }
    }

    /// Whether `pod` is named as this controller names its pods:
    /// `<deployment>-<pod-template-hash>-<suffix>` or `<statefulset>-<ordinal>`.
    /// Bare pods belong only to themselves; HPAs own no pods directly.
    pub(crate) fn owns_pod(self, owner: &str, pod: &str) -> bool {
        let Some(rest) = pod.strip_prefix(owner).and_then(|r| r.strip_prefix('-')) else {
            return self == ObjectKind::Pod && pod == owner;
        };
        let alnum = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        match self {
            ObjectKind::Deployment => rest
                .split_once('-')
                .is_some_and(|(hash, suffix)| alnum(hash) && alnum(suffix)),
            ObjectKind::StatefulSet => !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()),
            ObjectKind::Pod | ObjectKind::Hpa => false,
        }
    }

    /// The regex (unescaped) of this kind's pods for an alternation of
    /// object names; group 1 is the object's name.
    fn pod_regex(self, alternation: &str) -> String {
        match self {
            ObjectKind::Deployment => format!("({alternation})-[a-z0-9]+-[a-z0-9]+"),
            ObjectKind::StatefulSet => format!("({alternation})-[0-9]+"),
            // HPAs own no pods: a regex that matches nothing keeps a
            // template that asks for them valid and empty.
            ObjectKind::Pod => format!("({alternation})"),
            ObjectKind::Hpa => "($^)".to_string(),
        }
    }
}

/// The series a sparkline can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// CPU in cores.
    Cpu,
    /// Working set in bytes.
    Memory,
    /// Requests per second.
    RequestRate,
    /// The share of requests answered 5xx, 0..1.
    ErrorRatio,
    /// The 95th percentile of request latency, in seconds.
    P95Latency,
    /// Available (Deployment) or ready (StatefulSet) replicas.
    Replicas,
    /// Container restarts, cumulative.
    Restarts,
    HpaCurrent,
    HpaDesired,
    HpaMin,
    HpaMax,
    /// The HPA's CPU utilization target in percent: a constant line.
    HpaTarget,
    /// The CPU utilization the HPA controller measured, in percent: what it
    /// compares with the target (ready pods, its metrics window).
    HpaUtilization,
}

impl Metric {
    /// What a view of `kind` shows, in display order.
    pub fn for_kind(kind: ObjectKind) -> &'static [Metric] {
        match kind {
            ObjectKind::Deployment | ObjectKind::StatefulSet => &[
                Metric::Cpu,
                Metric::Memory,
                Metric::RequestRate,
                Metric::ErrorRatio,
                Metric::P95Latency,
                Metric::Replicas,
            ],
            ObjectKind::Pod => &[Metric::Cpu, Metric::Memory, Metric::Restarts],
            ObjectKind::Hpa => &[
                Metric::HpaCurrent,
                Metric::HpaDesired,
                Metric::HpaMin,
                Metric::HpaMax,
                Metric::HpaTarget,
            ],
        }
    }
}

/// Escapes `v` for the inside of a PromQL double-quoted string.
pub(crate) fn escape_string(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes `v` so that an RE2 regex matches exactly it (not yet escaped for
/// the string the regex goes in).
pub(crate) fn escape_regex(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(
            c,
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The unescaped regex alternation of `names` (each matched literally).
fn alternation(names: &[String]) -> String {
    names
        .iter()
        .map(|n| escape_regex(n))
        .collect::<Vec<_>>()
        .join("|")
}

/// The range for `rate()`: two steps, so that consecutive points overlap
/// and no sample is skipped, and at least 1m (two samples at a 30s scrape
/// interval). Not a fixed 5m: a 5m rate lags a load change by minutes, and
/// divides a pod's first minutes of CPU by all 5, so a chart beside an HPA
/// read a fraction of what the HPA (a usage window under a minute) saw.
pub(crate) fn rate_range(step: Duration) -> String {
    let secs = step.as_secs().saturating_mul(2).max(60);
    if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// What the placeholders of one query stand for.
#[derive(Debug, Clone)]
pub struct Bindings<'a> {
    pub kind: ObjectKind,
    pub namespace: &'a str,
    pub names: &'a [String],
    pub step: Duration,
}

const PLACEHOLDERS: [&str; 5] = ["namespace", "names", "pods", "kind", "rate"];

/// Splits a template into literal text and placeholder names. `$` followed
/// by anything but a letter or `_` is literal (`$1` in `label_replace`).
fn tokens(template: &str) -> Vec<Result<&str, &str>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        let after = &rest[i + 1..];
        let len = after
            .char_indices()
            .find(|(j, c)| {
                !(c.is_ascii_alphabetic() || *c == '_' || (*j > 0 && c.is_ascii_digit()))
            })
            .map_or(after.len(), |(j, _)| j);
        if len == 0 {
            out.push(Ok(&rest[..=i]));
        } else {
            out.push(Ok(&rest[..i]));
            out.push(Err(&after[..len]));
        }
        rest = &after[len..];
    }
    out.push(Ok(rest));
    out
}

/// The placeholders in `template` that are not ones this module fills.
pub(crate) fn unknown_placeholders(template: &str) -> Vec<String> {
    let mut unknown: Vec<String> = tokens(template)
        .into_iter()
        .filter_map(Result::err)
        .filter(|p| !PLACEHOLDERS.contains(p))
        .map(|p| format!("${p}"))
        .collect();
    unknown.dedup();
    unknown
}

/// Fills `template`. Every value is escaped, so names cannot end a string
/// or widen a regex. Unknown placeholders are left as written (and make
/// PromQL reject the query); `Queries::validate` reports them up front.
pub fn render(template: &str, b: &Bindings<'_>) -> String {
    render_with_rate(template, b, &rate_range(b.step))
}

/// `render` with `$rate` given rather than derived from the step: a
/// recovery test's seconds-long dip would vanish in a 5m rate.
pub(crate) fn render_with_rate(template: &str, b: &Bindings<'_>, rate: &str) -> String {
    let names = alternation(b.names);
    let mut out = String::with_capacity(template.len() + 64);
    for t in tokens(template) {
        match t {
            Ok(text) => out.push_str(text),
            Err("namespace") => out.push_str(&escape_string(b.namespace)),
            Err("names") => out.push_str(&escape_string(&names)),
            Err("pods") => out.push_str(&escape_string(&b.kind.pod_regex(&names))),
            Err("kind") => out.push_str(b.kind.label()),
            Err("rate") => out.push_str(rate),
            Err(other) => {
                out.push('$');
                out.push_str(other);
            }
        }
    }
    out
}

/// The `[metrics.queries]` table of config.toml: one PromQL template per
/// sparkline. Missing keys keep their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Queries {
    pub workload_cpu: String,
    pub workload_memory: String,
    pub workload_requests: String,
    pub workload_errors: String,
    pub workload_p95: String,
    pub deployment_replicas: String,
    pub statefulset_replicas: String,
    pub pod_cpu: String,
    pub pod_memory: String,
    pub pod_restarts: String,
    pub hpa_current: String,
    pub hpa_desired: String,
    pub hpa_min: String,
    pub hpa_max: String,
    pub hpa_target: String,
    pub hpa_utilization: String,
}

/// Container series without cAdvisor's pod-level (`container=""`) and
/// pause-container (`POD`) rows, which would count twice.
const CONTAINERS: &str = r#"namespace="$namespace",pod=~"$pods",container!="",container!="POD""#;

/// `inner` (a vector with a `pod` label) aggregated by the object whose pod
/// it is.
fn by_object(agg: &str, inner: &str) -> String {
    format!(r#"{agg} by ($kind) (label_replace({inner}, "$kind", "$1", "pod", "$pods"))"#)
}

fn hpa(series: &str, extra: &str) -> String {
    format!(
        r#"max by ($kind) ({series}{{namespace="$namespace",horizontalpodautoscaler=~"$names"{extra}}})"#
    )
}

impl Default for Queries {
    fn default() -> Self {
        let requests = r#"rate(http_requests_total{namespace="$namespace",pod=~"$pods"}[$rate])"#;
        let errors = r#"rate(http_requests_total{namespace="$namespace",pod=~"$pods",status=~"5.."}[$rate])"#;
        Queries {
            workload_cpu: by_object(
                "sum",
                &format!("rate(container_cpu_usage_seconds_total{{{CONTAINERS}}}[$rate])"),
            ),
            workload_memory: by_object(
                "sum",
                &format!("container_memory_working_set_bytes{{{CONTAINERS}}}"),
            ),
            workload_requests: by_object("sum", requests),
            // `or … * 0`: an app that never failed has no 5xx series, and
            // its ratio is 0, not missing.
            workload_errors: format!(
                "({} or {} * 0) / {}",
                by_object("sum", errors),
                by_object("sum", requests),
                by_object("sum", requests)
            ),
            workload_p95: format!(
                "histogram_quantile(0.95, {})",
                by_object(
                    "sum",
                    r#"rate(http_request_duration_seconds_bucket{namespace="$namespace",pod=~"$pods"}[$rate])"#
                )
                .replacen("by ($kind)", "by ($kind, le)", 1)
            ),
            deployment_replicas: r#"max by ($kind) (kube_deployment_status_replicas_available{namespace="$namespace",deployment=~"$names"})"#.into(),
            statefulset_replicas: r#"max by ($kind) (kube_statefulset_status_replicas_ready{namespace="$namespace",statefulset=~"$names"})"#.into(),
            pod_cpu: format!(
                "sum by ($kind) (rate(container_cpu_usage_seconds_total{{{CONTAINERS}}}[$rate]))"
            ),
            pod_memory: format!(
                "sum by ($kind) (container_memory_working_set_bytes{{{CONTAINERS}}})"
            ),
            pod_restarts: r#"sum by ($kind) (kube_pod_container_status_restarts_total{namespace="$namespace",pod=~"$pods"})"#.into(),
            hpa_current: hpa("kube_horizontalpodautoscaler_status_current_replicas", ""),
            hpa_desired: hpa("kube_horizontalpodautoscaler_status_desired_replicas", ""),
            hpa_min: hpa("kube_horizontalpodautoscaler_spec_min_replicas", ""),
            hpa_max: hpa("kube_horizontalpodautoscaler_spec_max_replicas", ""),
            hpa_target: hpa(
                "kube_horizontalpodautoscaler_spec_target_metric",
                r#",metric_name="cpu",metric_target_type="utilization""#,
            ),
            hpa_utilization: hpa(
                "kube_horizontalpodautoscaler_status_target_metric",
                r#",metric_name="cpu",metric_target_type="utilization""#,
            ),
        }
    }
}

/// A template in config.toml that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub key: &'static str,
    pub problem: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[metrics.queries] {}: {}", self.key, self.problem)
    }
}

impl Queries {
    fn entries(&self) -> [(&'static str, &String); 16] {
        [
            ("workload_cpu", &self.workload_cpu),
            ("workload_memory", &self.workload_memory),
            ("workload_requests", &self.workload_requests),
            ("workload_errors", &self.workload_errors),
            ("workload_p95", &self.workload_p95),
            ("deployment_replicas", &self.deployment_replicas),
            ("statefulset_replicas", &self.statefulset_replicas),
            ("pod_cpu", &self.pod_cpu),
            ("pod_memory", &self.pod_memory),
            ("pod_restarts", &self.pod_restarts),
            ("hpa_current", &self.hpa_current),
            ("hpa_desired", &self.hpa_desired),
            ("hpa_min", &self.hpa_min),
            ("hpa_max", &self.hpa_max),
            ("hpa_target", &self.hpa_target),
            ("hpa_utilization", &self.hpa_utilization),
        ]
    }

    /// Every problem with the templates: unknown placeholders (a typo such
    /// as `$namepsace` would otherwise reach Prometheus) and empty ones.
    pub fn validate(&self) -> Vec<TemplateError> {
        let mut errors = Vec::new();
        for (key, t) in self.entries() {
            if t.trim().is_empty() {
                errors.push(TemplateError {
                    key,
                    problem: "empty query".into(),
                });
            }
            let unknown = unknown_placeholders(t);
            if !unknown.is_empty() {
                errors.push(TemplateError {
                    key,
                    problem: format!(
                        "unknown placeholder {} (known: {})",
                        unknown.join(", "),
                        PLACEHOLDERS.map(|p| format!("${p}")).join(", ")
                    ),
                });
            }
        }
        errors
    }

    /// The template for `metric` on a view of `kind`; None if that view has
    /// no such series.
    pub fn template(&self, kind: ObjectKind, metric: Metric) -> Option<&str> {
        use Metric::*;
        use ObjectKind::*;
        let t = match (kind, metric) {
            (Deployment | StatefulSet, Cpu) => &self.workload_cpu,
            (Deployment | StatefulSet, Memory) => &self.workload_memory,
            (Deployment | StatefulSet, RequestRate) => &self.workload_requests,
            (Deployment | StatefulSet, ErrorRatio) => &self.workload_errors,
            (Deployment | StatefulSet, P95Latency) => &self.workload_p95,
            (Deployment, Replicas) => &self.deployment_replicas,
            (StatefulSet, Replicas) => &self.statefulset_replicas,
            (Pod, Cpu) => &self.pod_cpu,
            (Pod, Memory) => &self.pod_memory,
            (Pod, Restarts) => &self.pod_restarts,
            (Hpa, HpaCurrent) => &self.hpa_current,
            (Hpa, HpaDesired) => &self.hpa_desired,
            (Hpa, HpaMin) => &self.hpa_min,
            (Hpa, HpaMax) => &self.hpa_max,
            (Hpa, HpaTarget) => &self.hpa_target,
            (Hpa, HpaUtilization) => &self.hpa_utilization,
            _ => return None,
        };
        Some(t.as_str())
    }

    /// The PromQL for each of `metrics` over the objects in `b`, skipping
    /// metrics the kind has no template for.
    pub fn build(&self, metrics: &[Metric], b: &Bindings<'_>) -> BTreeMap<Metric, String> {
        metrics
            .iter()
            .filter_map(|m| Some((*m, render(self.template(b.kind, *m)?, b))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind<'a>(kind: ObjectKind, ns: &'a str, names: &'a [String]) -> Bindings<'a> {
        Bindings {
            kind,
            namespace: ns,
            names,
            step: Duration::from_secs(5),
        }
    }

    /// Reads back the string literal that starts at `s` (just after its
    /// opening quote) as PromQL's lexer would: the decoded value and the
    /// rest after the closing quote.
    fn unquote(s: &str) -> Option<(String, &str)> {
        let mut out = String::new();
        let mut chars = s.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((out, &s[i + 1..])),
                '\n' => return None,
                '\\' => match chars.next()?.1 {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let hex: String =
                            (0..4).filter_map(|_| chars.next().map(|x| x.1)).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    e => out.push(e),
                },
                c => out.push(c),
            }
        }
        None
    }

    const HOSTILE: [&str; 7] = [
        r#""}) or vector(1) #"#,
        "a|.*",
        r"back\slash\",
        "new\nline\"",
        "ünïcødé-☃-名前",
        "x\u{7}bell",
        "$namespace",
    ];

    #[test]
    fn hostile_values_stay_inside_their_string_literal() {
        for v in HOSTILE {
            let q = format!(r#"up{{pod="{}"}} + 1"#, escape_string(v));
            let body = q.strip_prefix(r#"up{pod=""#).unwrap_or_default();
            let (decoded, rest) = unquote(body).unwrap_or_else(|| panic!("unterminated: {q}"));
            assert_eq!(decoded, v, "round trip of {v:?}");
            assert_eq!(rest, "} + 1", "nothing escapes the literal for {v:?}: {q}");
            assert!(!q.contains('\n'), "no raw newline in {q:?}");
        }
    }

    #[test]
    fn regex_escaping_makes_every_metacharacter_literal() {
        assert_eq!(escape_regex("a|.*"), r"a\|\.\*");
        assert_eq!(
            escape_regex(r"x\d(1)[2]{3}^$+?"),
            r"x\\d\(1\)\[2\]\{3\}\^\$\+\?"
        );
        assert_eq!(escape_regex("web-api_1"), "web-api_1");
        // Then the string layer doubles each backslash.
        assert_eq!(escape_string(&escape_regex("a|.*")), r"a\\|\\.\\*");
    }

    #[test]
    fn rendered_queries_hold_hostile_names_as_data() {
        let names: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
        let q = Queries::default();
        let rendered = render(&q.pod_restarts, &bind(ObjectKind::Pod, "ns\"x", &names));
        assert!(!rendered.contains("vector(1) #\""), "{rendered}");
        // The selector still has exactly its two matchers: every quote from
        // a value is escaped.
        let (ns, rest) = unquote(
            rendered
                .split_once("namespace=\"")
                .map(|x| x.1)
                .unwrap_or_default(),
        )
        .expect("namespace literal");
        assert_eq!(ns, "ns\"x");
        let (re, rest) =
            unquote(rest.strip_prefix(",pod=~\"").unwrap_or_default()).expect("regex literal");
        assert_eq!(rest, "})", "{rendered}");
        let alts: Vec<String> = HOSTILE.iter().map(|v| escape_regex(v)).collect();
        assert_eq!(re, format!("({})", alts.join("|")));
        // A placeholder-looking name is not expanded again.
        assert!(re.contains(r"\$namespace"), "{re}");
    }

    #[test]
    fn defaults_are_the_seed_dashboards_queries_batched_per_view() {
        let q = Queries::default();
        assert!(q.validate().is_empty(), "{:?}", q.validate());
        let names = vec!["web".to_string(), "api".to_string()];
        let b = bind(ObjectKind::Deployment, "demo", &names);
        let built = q.build(Metric::for_kind(ObjectKind::Deployment), &b);
        assert_eq!(built.len(), 6);
        let pods = r#"pod=~"(web|api)-[a-z0-9]+-[a-z0-9]+""#;
        assert_eq!(
            built[&Metric::RequestRate],
            format!(
                r#"sum by (deployment) (label_replace(rate(http_requests_total{{namespace="demo",{pods}}}[1m]), "deployment", "$1", "pod", "(web|api)-[a-z0-9]+-[a-z0-9]+"))"#
            )
        );
        assert!(built[&Metric::P95Latency].starts_with("histogram_quantile(0.95, sum by (deployment, le) (label_replace(rate(http_request_duration_seconds_bucket{"));
        assert!(built[&Metric::ErrorRatio].contains(r#"status=~"5..""#));
        assert!(built[&Metric::Cpu].contains("rate(container_cpu_usage_seconds_total{"));
        assert!(built[&Metric::Memory].contains("container_memory_working_set_bytes{"));
        assert_eq!(
            built[&Metric::Replicas],
            r#"max by (deployment) (kube_deployment_status_replicas_available{namespace="demo",deployment=~"web|api"})"#
        );

        let sts = q.build(
            &[Metric::Replicas, Metric::Cpu],
            &bind(ObjectKind::StatefulSet, "db", &names),
        );
        assert!(sts[&Metric::Replicas].contains("kube_statefulset_status_replicas_ready{"));
        assert!(sts[&Metric::Cpu].contains(r#"pod=~"(web|api)-[0-9]+""#));

        let pods = vec!["web-1".to_string()];
        let p = q.build(
            Metric::for_kind(ObjectKind::Pod),
            &bind(ObjectKind::Pod, "demo", &pods),
        );
        assert_eq!(
            p[&Metric::Restarts],
            r#"sum by (pod) (kube_pod_container_status_restarts_total{namespace="demo",pod=~"(web-1)"})"#
        );
        let h = q.build(
            Metric::for_kind(ObjectKind::Hpa),
            &bind(ObjectKind::Hpa, "demo", &names),
        );
        assert_eq!(h.len(), 5);
        assert!(h[&Metric::HpaTarget].contains("kube_horizontalpodautoscaler_spec_target_metric{namespace=\"demo\",horizontalpodautoscaler=~\"web|api\",metric_name=\"cpu\""));
        // A metric a kind does not have yields no query.
        assert!(q.build(&[Metric::Restarts], &b).is_empty());
    }

    #[test]
    fn rate_range_is_two_steps_and_at_least_1m() {
        assert_eq!(rate_range(Duration::from_secs(1)), "1m");
        assert_eq!(rate_range(Duration::from_secs(15)), "1m");
        assert_eq!(rate_range(Duration::from_secs(45)), "90s");
        assert_eq!(rate_range(Duration::from_secs(150)), "5m");
        assert_eq!(rate_range(Duration::from_secs(270)), "9m");
        assert_eq!(rate_range(Duration::from_secs(155)), "310s");
    }

    #[test]
    fn config_overrides_some_templates_and_validation_names_unknown_placeholders() {
        let toml_text = r#"
            pod_cpu = 'sum by ($kind) (rate(cpu{ns="$namepsace",pod=~"$pods"}[$rate]))'
            hpa_max = 'max by ($kind) (label_replace(x, "a", "$1", "b", "(.*)")) * $factor'
        "#;
        let q: Queries = toml::from_str(toml_text).expect("valid table");
        assert_eq!(q.workload_cpu, Queries::default().workload_cpu);
        let errors = q.validate();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].key, "pod_cpu");
        assert!(errors[0].problem.contains("$namepsace"), "{}", errors[0]);
        assert_eq!(errors[1].key, "hpa_max");
        assert!(errors[1].problem.contains("$factor") && !errors[1].problem.contains("$1"));

        let unknown_key = toml::from_str::<Queries>("pod_cpuu = 'x'");
        assert!(unknown_key.is_err(), "a misspelt key is reported");
        let empty: Queries = toml::from_str("pod_cpu = ' '").expect("parses");
        assert_eq!(empty.validate()[0].problem, "empty query");
    }

    #[test]
    fn placeholders_are_whole_identifiers() {
        assert_eq!(
            unknown_placeholders("$names $namespace $pods_x $ $1 a$"),
            vec!["$pods_x"]
        );
        let names = vec!["a".to_string()];
        let r = render(
            "$names|$namespace|$1|$|$kind",
            &bind(ObjectKind::Hpa, "n", &names),
        );
        assert_eq!(r, "a|n|$1|$|horizontalpodautoscaler");
    }

    #[test]
    fn controllers_own_their_pods_by_name() {
        use ObjectKind::*;
        assert!(Deployment.owns_pod("web", "web-7d4b9c8f5-x2k9p"));
        assert!(!Deployment.owns_pod("web", "web-api-7d4b9c8f5-x2k9p"));
        assert!(Deployment.owns_pod("web-api", "web-api-7d4b9c8f5-x2k9p"));
        assert!(!Deployment.owns_pod("web", "web-0"));
        assert!(StatefulSet.owns_pod("db", "db-12"));
        assert!(!StatefulSet.owns_pod("db", "db-x"));
        assert!(Pod.owns_pod("web-0", "web-0"));
        assert!(!Pod.owns_pod("web", "web-0"));
        assert!(!Hpa.owns_pod("web", "web-0"));
    }
}
