//! Where sparkline data comes from: a Prometheus (range queries, one per
//! series per view) or, without one, metrics.k8s.io sampled into ring
//! buffers. Either way the caller never waits: `MetricsSource::request`
//! returns a ticket at once and the answer arrives later as a `MetricsMsg`
//! on the channel given at construction. Only the newest ticket of a view
//! is answered; results of superseded requests are dropped.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http::HeaderValue;
use http::header::AUTHORIZATION;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::ListParams;
use kube::{Api, Client as KubeClient};
use prometheus_http_query::Client as PromClient;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::health::HealthTracker;
pub use super::health::{Backoff, Health};
use super::history::{FINE_SECS, PodHistory, UsageSample};
pub use super::prometheus::{BasicAuth, PrometheusConfig, connect};
use super::promql::{Bindings, Metric, ObjectKind, Queries};
pub use super::series::{
    ObjectSeries, Origin, Point, Ticket, ViewRequest, ViewSeries, Window, query_range, step_for,
};
use kubedeck_kube::quantity::parse_quantity;

/// The source's state for the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    pub origin: Origin,
    /// The Prometheus URL, or "metrics.k8s.io".
    pub endpoint: String,
    pub health: Health,
    pub failures: u32,
    pub retry_in: Option<Duration>,
    pub last_error: Option<String>,
    pub history_since: Option<DateTime<Utc>>,
}

impl SourceStatus {
    /// One line: `prometheus http://prom:9090: down, retry in 4s`, or
    /// `metrics-server: ok, history since 12:03:04 UTC`.
    pub fn describe(&self) -> String {
        let mut s = match self.origin {
            Origin::Prometheus => format!("prometheus {}: {}", self.endpoint, self.health.label()),
            Origin::MetricsServer => format!("metrics-server: {}", self.health.label()),
        };
        if self.health == Health::Unavailable
            && let Some(why) = &self.last_error
        {
            s.push_str(&format!(" ({why}), sampling stopped"));
        }
        if let Some(r) = self.retry_in {
            s.push_str(&format!(", retry in {}s", r.as_secs_f64().ceil() as u64));
        }
        if let Some(since) = self.history_since {
            s.push_str(&format!(", history since {}", since.format("%H:%M:%S UTC")));
        }
        s
    }
}

/// What the source sends back.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricsMsg {
    Data {
        ticket: Ticket,
        series: Arc<ViewSeries>,
    },
    Failed {
        ticket: Ticket,
        error: String,
    },
    /// The health changed.
    Health(SourceStatus),
}

/// How the metrics-server fallback samples.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerOptions {
    /// Only this namespace; all when None.
    pub namespace: Option<String>,
    /// metrics-server itself resolves 15 s; sampling faster shows nothing new.
    pub period: Duration,
    /// How far back each pod's history goes, in periods: 6 h at 15 s, the
    /// widest window (the last hour at full resolution, before that 2-minute
    /// means).
    pub capacity: usize,
    /// A list slower than this shows as slow.
    pub slow_after: Duration,
}

impl Default for SamplerOptions {
    fn default() -> Self {
        SamplerOptions {
            namespace: None,
            period: Duration::from_secs(15),
            capacity: 6 * 3600 / 15,
            slow_after: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("invalid Prometheus URL {url:?}: {reason}")]
    Url { url: String, reason: String },
    #[error("invalid Prometheus credentials: {0}")]
    Credentials(String),
    #[error("cannot use the CA file {path} for Prometheus: {reason}")]
    CustomCa { path: PathBuf, reason: String },
    #[error("{0}")]
    Queries(String),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its value whole, so a poisoned lock
    // still holds a usable one.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn unix_now() -> i64 {
    Utc::now().timestamp()
}

/// Who the newest request of each view is.
#[derive(Default)]
struct Tickets {
    next: AtomicU64,
    latest: Mutex<HashMap<Arc<str>, u64>>,
}

impl Tickets {
    fn issue(&self, view: &str) -> Ticket {
        let generation = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut latest = lock(&self.latest);
        let view: Arc<str> = match latest.get_key_value(view) {
            Some((k, _)) => k.clone(),
            None => Arc::from(view),
        };
        latest.insert(view.clone(), generation);
        Ticket { view, generation }
    }

    fn is_current(&self, t: &Ticket) -> bool {
        lock(&self.latest).get(&t.view) == Some(&t.generation)
    }
}

/// Parsed series of one query, by object name.
type ByObject = BTreeMap<String, Vec<Point>>;

struct CacheEntry {
    at: Instant,
    step: Duration,
    data: Arc<ByObject>,
}

struct Prometheus {
    client: PromClient,
    url: String,
    authorization: Option<HeaderValue>,
    queries: Queries,
    timeout: Duration,
    /// By (query, start, end, step): kept for one step.
    cache: Mutex<HashMap<(String, i64, i64, u64), CacheEntry>>,
}

struct History {
    since: DateTime<Utc>,
    pods: HashMap<(String, String), PodHistory>,
}

struct Fallback {
    history: Mutex<History>,
    options: SamplerOptions,
}

enum Backend {
    Prometheus(Box<Prometheus>),
    MetricsServer(Fallback),
}

struct Inner {
    backend: Backend,
    health: Mutex<HealthTracker>,
    tickets: Tickets,
    tx: UnboundedSender<MetricsMsg>,
}

/// A source of sparkline data. Dropping it stops its background sampling.
pub struct MetricsSource {
    inner: Arc<Inner>,
    sampler: Option<JoinHandle<()>>,
}

impl Drop for MetricsSource {
    fn drop(&mut self) {
        if let Some(s) = &self.sampler {
            s.abort();
        }
    }
}

impl MetricsSource {
    /// A Prometheus source with `queries` (validated here) and back-off
    /// `backoff`. Nothing is sent until the first request.
    pub fn prometheus(
        config: &PrometheusConfig,
        queries: Queries,
        backoff: Backoff,
        tx: UnboundedSender<MetricsMsg>,
    ) -> Result<MetricsSource, MetricsError> {
        let errors = queries.validate();
        if !errors.is_empty() {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return Err(MetricsError::Queries(text.join("; ")));
        }
        let (client, authorization) = connect(config)?;
        let url = config.url.trim_end_matches('/').to_string();
        let inner = Inner {
            backend: Backend::Prometheus(Box::new(Prometheus {
                client,
                url,
                authorization,
                queries,
                timeout: config.timeout,
                cache: Mutex::new(HashMap::new()),
            })),
            health: Mutex::new(HealthTracker::new(config.slow_after, backoff)),
            tickets: Tickets::default(),
            tx,
        };
        Ok(MetricsSource {
            inner: Arc::new(inner),
            sampler: None,
        })
    }

    /// The metrics-server fallback: samples PodMetrics every
    /// `options.period` from now on. Must be called within a Tokio runtime.
    pub fn metrics_server(
        client: KubeClient,
        options: SamplerOptions,
        backoff: Backoff,
        tx: UnboundedSender<MetricsMsg>,
    ) -> MetricsSource {
        let api = pod_metrics_api(client, options.namespace.as_deref());
        let period = options.period;
        let (mut source, feed) = MetricsSource::metrics_server_fed(options, backoff, tx);
        source.sampler = Some(tokio::spawn(sample_pod_metrics(
            api,
            period,
            Some(feed),
            |_| true,
        )));
        source
    }

    /// The metrics-server fallback without a sampler of its own: whoever
    /// already lists PodMetrics (`sample_pod_metrics`) hands each list to
    /// the returned `Feed`, so one list per period serves both.
    pub fn metrics_server_fed(
        options: SamplerOptions,
        backoff: Backoff,
        tx: UnboundedSender<MetricsMsg>,
    ) -> (MetricsSource, Feed) {
        let slow_after = options.slow_after;
        let inner = Arc::new(Inner {
            backend: Backend::MetricsServer(Fallback {
                history: Mutex::new(History {
                    since: Utc::now(),
                    pods: HashMap::new(),
                }),
                options,
            }),
            health: Mutex::new(HealthTracker::new(slow_after, backoff)),
            tickets: Tickets::default(),
            tx,
        });
        let feed = Feed {
            inner: inner.clone(),
        };
        let source = MetricsSource {
            inner,
            sampler: None,
        };
        (source, feed)
    }

    pub fn status(&self) -> SourceStatus {
        status_of(&self.inner)
    }

    /// Asks for a view's series. Returns at once; the answer (or failure)
    /// arrives on the channel unless a newer request for the same view
    /// comes first. Must be called within a Tokio runtime.
    pub fn request(&self, req: ViewRequest) -> Ticket {
        let ticket = self.inner.tickets.issue(&req.view);
        match &self.inner.backend {
            Backend::Prometheus(_) => {
                tokio::spawn(run_prometheus(self.inner.clone(), req, ticket.clone()));
            }
            Backend::MetricsServer(f) => {
                let series = {
                    let history = lock(&f.history);
                    fallback_view(&history, &req, unix_now())
                };
                deliver(
                    &self.inner,
                    MetricsMsg::Data {
                        ticket: ticket.clone(),
                        series: Arc::new(series),
                    },
                );
            }
        }
        ticket
    }

    /// Samples held, summed over pods (metrics-server only): for tests and
    /// the memory bound.
    pub fn samples_held(&self) -> usize {
        match &self.inner.backend {
            Backend::MetricsServer(f) => lock(&f.history).pods.values().map(PodHistory::len).sum(),
            Backend::Prometheus(_) => 0,
        }
    }
}

fn status_of(inner: &Inner) -> SourceStatus {
    let now = Instant::now();
    let h = lock(&inner.health);
    let (origin, endpoint, history_since) = match &inner.backend {
        Backend::Prometheus(p) => (
            Origin::Prometheus,
            crate::redact::Masked(&p.url).to_string(),
            None,
        ),
        Backend::MetricsServer(f) => (
            Origin::MetricsServer,
            "metrics.k8s.io".to_string(),
            Some(lock(&f.history).since),
        ),
    };
    SourceStatus {
        origin,
        endpoint,
        health: h.health(),
        failures: h.failures(),
        retry_in: h.retry_in(now),
        last_error: h.last_error().map(str::to_string),
        history_since,
    }
}

/// Sends a request's answer if it is still wanted.
fn deliver(inner: &Inner, msg: MetricsMsg) {
    let current = match &msg {
        MetricsMsg::Data { ticket, .. } | MetricsMsg::Failed { ticket, .. } => {
            inner.tickets.is_current(ticket)
        }
        MetricsMsg::Health(_) => true,
    };
    if current {
        // A closed channel means nobody is listening any more.
        let _ = inner.tx.send(msg);
    }
}

fn record_outcome(inner: &Inner, outcome: Result<Duration, String>) {
    let changed = {
        let mut h = lock(&inner.health);
        match outcome {
            Ok(took) => h.succeeded(took),
            Err(e) => h.failed(Instant::now(), e),
        }
    };
    if changed {
        deliver(inner, MetricsMsg::Health(status_of(inner)));
    }
}

/// Maps a range query's matrix to objects by the kind's label; a series
/// without the label belongs to the only object asked about, if just one.
/// Gaps (NaN, as from a 0/0 ratio) are left out.
fn by_object(
    data: &prometheus_http_query::response::Data,
    kind: ObjectKind,
    names: &[String],
) -> ByObject {
    let mut merged: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    for rv in data.as_matrix().into_iter().flatten() {
        let name = match rv.metric().get(kind.label()) {
            Some(n) if names.contains(n) => n.clone(),
            Some(_) => continue,
            None if names.len() == 1 => names[0].clone(),
            None => continue,
        };
        let points = merged.entry(name).or_default();
        for s in rv.samples() {
            if s.value().is_finite() {
                *points.entry(s.timestamp().round() as i64).or_insert(0.0) += s.value();
            }
        }
    }
    merged
        .into_iter()
        .map(|(n, pts)| (n, pts.into_iter().map(|(t, v)| Point { t, v }).collect()))
        .collect()
}

async fn run_prometheus(inner: Arc<Inner>, req: ViewRequest, ticket: Ticket) {
    let Backend::Prometheus(p) = &inner.backend else {
        return;
    };
    let step = step_for(req.window.duration(), req.width);
    let (start, end) = query_range(unix_now(), req.window.duration(), step);
    let bindings = Bindings {
        kind: req.kind,
        namespace: &req.namespace,
        names: &req.names,
        step,
    };
    let queries = if req.names.is_empty() {
        BTreeMap::new()
    } else {
        p.queries.build(&req.metrics(), &bindings)
    };
    let key = |q: &str| (q.to_string(), start, end, step.as_secs());
    let mut results: BTreeMap<Metric, Arc<ByObject>> = BTreeMap::new();
    let mut missing = Vec::new();
    {
        let mut cache = lock(&p.cache);
        cache.retain(|_, e| e.at.elapsed() < e.step);
        for (m, q) in &queries {
            match cache.get(&key(q)) {
                Some(e) => {
                    results.insert(*m, e.data.clone());
                }
                None => missing.push((*m, q.clone())),
            }
        }
    }
    if !missing.is_empty() {
        let admitted = lock(&inner.health).admit(Instant::now());
        if let Err(wait) = admitted {
            let error = format!(
                "Prometheus is down; retrying in {}s",
                wait.as_secs_f64().ceil() as u64
            );
            deliver(&inner, MetricsMsg::Failed { ticket, error });
            return;
        }
        let began = Instant::now();
        let fetch = futures::future::try_join_all(missing.iter().map(|(m, q)| {
            let mut b = p.client.query_range(q, start, end, step.as_secs_f64());
            if let Some(h) = &p.authorization {
                b = b.header(AUTHORIZATION, h.clone());
            }
            async move { b.get().await.map(|r| (*m, q, r)) }
        }));
        // Prometheus rejecting a query (bad PromQL in config) is an answer,
        // not an outage.
        let outcome = match tokio::time::timeout(p.timeout, fetch).await {
            Ok(Ok(answers)) => Ok(answers),
            Ok(Err(e @ prometheus_http_query::Error::Prometheus(_))) => Err((e.to_string(), false)),
            Ok(Err(e)) => Err((e.to_string(), true)),
            Err(_) => Err((
                format!("no answer within {}s", p.timeout.as_secs_f64()),
                true,
            )),
        };
        match outcome {
            Ok(answers) => {
                record_outcome(&inner, Ok(began.elapsed()));
                let mut cache = lock(&p.cache);
                for (m, q, r) in answers {
                    let data = Arc::new(by_object(r.data(), req.kind, &req.names));
                    cache.insert(
                        key(q),
                        CacheEntry {
                            at: Instant::now(),
                            step,
                            data: data.clone(),
                        },
                    );
                    results.insert(m, data);
                }
            }
            Err((error, outage)) => {
                record_outcome(
                    &inner,
                    if outage {
                        Err(error.clone())
                    } else {
                        Ok(began.elapsed())
                    },
                );
                deliver(&inner, MetricsMsg::Failed { ticket, error });
                return;
            }
        }
    }
    let mut objects: BTreeMap<String, ObjectSeries> = BTreeMap::new();
    for (m, data) in results {
        for (name, points) in data.iter() {
            objects
                .entry(name.clone())
                .or_default()
                .series
                .insert(m, points.clone());
        }
    }
    let series = ViewSeries {
        kind: req.kind,
        namespace: req.namespace.clone(),
        window: req.window,
        step,
        start,
        end,
        objects,
        origin: Origin::Prometheus,
        history_since: None,
    };
    deliver(
        &inner,
        MetricsMsg::Data {
            ticket,
            series: Arc::new(series),
        },
    );
}

/// One PodMetrics as the samplers read it: the pod, and each container's
/// usage in cores and bytes (0 where a quantity does not parse). Decoded
/// straight from the list: a `DynamicObject` held the pod's labels and a
/// JSON tree per item, tens of megabytes per list at 10,000 pods, every
/// period.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(from = "wire::PodMetrics")]
pub struct PodUsage {
    /// The pod's name and namespace, nothing else.
    pub metadata: ObjectMeta,
    pub containers: Vec<(f64, f64)>,
}

impl PodUsage {
    /// The usage summed over its containers: (cores, bytes).
    pub fn total(&self) -> (f64, f64) {
        self.containers
            .iter()
            .fold((0.0, 0.0), |(c, m), (cc, cm)| (c + cc, m + cm))
    }
}

mod wire {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub(super) struct PodMetrics {
        #[serde(default)]
        metadata: Meta,
        #[serde(default)]
        containers: Vec<Container>,
    }

    #[derive(Deserialize, Default)]
    struct Meta {
        name: Option<String>,
        namespace: Option<String>,
    }

    #[derive(Deserialize)]
    struct Container {
        #[serde(default)]
        usage: Usage,
    }

    #[derive(Deserialize, Default)]
    struct Usage {
        cpu: Option<String>,
        memory: Option<String>,
    }

    impl From<PodMetrics> for super::PodUsage {
        fn from(w: PodMetrics) -> Self {
            let q = |v: Option<String>| v.as_deref().and_then(super::parse_quantity).unwrap_or(0.0);
            super::PodUsage {
                metadata: super::ObjectMeta {
                    name: w.metadata.name,
                    namespace: w.metadata.namespace,
                    ..Default::default()
                },
                containers: w
                    .containers
                    .into_iter()
                    .map(|c| (q(c.usage.cpu), q(c.usage.memory)))
                    .collect(),
            }
        }
    }
}

impl kube::Resource for PodUsage {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> std::borrow::Cow<'_, str> {
        "PodMetrics".into()
    }
    fn group(_: &()) -> std::borrow::Cow<'_, str> {
        "metrics.k8s.io".into()
    }
    fn version(_: &()) -> std::borrow::Cow<'_, str> {
        "v1beta1".into()
    }
    fn plural(_: &()) -> std::borrow::Cow<'_, str> {
        "pods".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl History {
    /// Adds one round of samples taken at `t`; forgets pods whose newest
    /// sample is older than a full buffer (gone for the widest window).
    fn record(&mut self, t: i64, items: &[PodUsage], options: &SamplerOptions) {
        let period_ms = options.period.as_millis().max(1);
        let horizon = (period_ms.saturating_mul(options.capacity as u128) / 1000).max(1) as i64;
        // The last hour at the sampling period, at most `capacity` samples.
        let fine_cap = options
            .capacity
            .min((FINE_SECS as u128 * 1000 / period_ms).max(1) as usize);
        for obj in items {
            let (Some(ns), Some(name)) = (&obj.metadata.namespace, &obj.metadata.name) else {
                continue;
            };
            let (cpu, memory) = obj.total();
            let sample = UsageSample {
                t,
                cpu: cpu as f32,
                memory: memory as f32,
            };
            self.pods
                .entry((ns.clone(), name.clone()))
                .or_default()
                .push(sample, horizon, fine_cap);
        }
        self.pods
            .retain(|_, pod| pod.newest().is_some_and(|newest| t - newest <= horizon));
    }
}

/// The PodMetrics API of `namespace`, or of all namespaces.
pub fn pod_metrics_api(client: KubeClient, namespace: Option<&str>) -> Api<PodUsage> {
    match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    }
}

/// Whether an error means there is no metrics API for us: not installed
/// (404), its backend down or not registered (503), or not allowed (403).
/// None of these change within a session, so sampling stops.
pub fn unavailable(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if matches!(s.code, 403 | 404 | 503))
}

/// The header's word for why there is no metrics API.
fn unavailable_reason(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 403 => "not allowed".into(),
        kube::Error::Api(s) if s.code == 404 => "not installed".into(),
        kube::Error::Api(s) if s.code == 503 => "not serving".into(),
        other => other.to_string(),
    }
}

/// One round of sampling, as the caller of `sample_pod_metrics` sees it.
#[derive(Debug)]
pub enum Round<'a> {
    /// This round's PodMetrics.
    Listed(&'a [PodUsage]),
    /// A passing failure; the next round comes after the back-off.
    Failed(&'a str),
    /// No metrics API: the last round.
    Unavailable(&'a kube::Error),
}

/// Lists PodMetrics every `period` (the metrics API has no watch), feeding
/// each list to `feed`'s history and health and handing it to `tap`. Stops
/// when there is no metrics API or `tap` returns false. After a failure the
/// next list waits out `feed`'s back-off (never longer than a period).
pub async fn sample_pod_metrics(
    api: Api<PodUsage>,
    period: Duration,
    feed: Option<Feed>,
    mut tap: impl FnMut(Round<'_>) -> bool,
) {
    let mut next = tokio::time::Instant::now();
    loop {
        tokio::time::sleep_until(next).await;
        if let Some(f) = &feed {
            f.listing();
        }
        let began = tokio::time::Instant::now();
        let listed = tokio::time::timeout(period, api.list(&ListParams::default())).await;
        let error = match listed {
            Ok(Ok(list)) => {
                if let Some(f) = &feed {
                    f.record(&list.items, began.elapsed());
                }
                if !tap(Round::Listed(&list.items)) {
                    return;
                }
                next = began + period;
                continue;
            }
            Ok(Err(e)) if unavailable(&e) => {
                if let Some(f) = &feed {
                    f.unavailable(unavailable_reason(&e));
                }
                tap(Round::Unavailable(&e));
                return;
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => "metrics.k8s.io did not answer".to_string(),
        };
        let wait = feed.as_ref().map_or(period, |f| f.failed(error.clone()));
        if !tap(Round::Failed(&error)) {
            return;
        }
        next = tokio::time::Instant::now() + wait;
    }
}

/// The metrics-server source's intake: what a sampler does with each list
/// (history, health, back-off). Cheap to clone.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<Inner>,
}

impl Feed {
    fn fallback(&self) -> Option<&Fallback> {
        match &self.inner.backend {
            Backend::MetricsServer(f) => Some(f),
            Backend::Prometheus(_) => None,
        }
    }

    /// How often to list.
    pub fn period(&self) -> Duration {
        self.fallback()
            .map_or(SamplerOptions::default().period, |f| f.options.period)
    }

    /// Before each list. While down, this list is the probe once the
    /// back-off has passed; a list before then (a period is shorter) is
    /// not a failed retry.
    pub fn listing(&self) {
        let _ = lock(&self.inner.health).admit(Instant::now());
    }

    /// A list that answered `items` after `took`.
    pub fn record(&self, items: &[PodUsage], took: Duration) {
        if let Some(f) = self.fallback() {
            lock(&f.history).record(unix_now(), items, &f.options);
        }
        record_outcome(&self.inner, Ok(took));
    }

    /// A list that failed; returns the wait before the next one.
    pub fn failed(&self, error: String) -> Duration {
        record_outcome(&self.inner, Err(error));
        retry_wait(&self.inner, self.period())
    }

    /// There is no metrics API (`reason` says why): sampling has stopped.
    pub fn unavailable(&self, reason: String) {
        let changed = lock(&self.inner.health).stopped(reason);
        if changed {
            deliver(&self.inner, MetricsMsg::Health(status_of(&self.inner)));
        }
    }
}

/// After a failed sample: the back-off, but never longer than a period
/// (the sampler keeps its cadence once the API is back).
fn retry_wait(inner: &Inner, period: Duration) -> Duration {
    lock(&inner.health)
        .retry_in(Instant::now())
        .unwrap_or(period)
        .min(period)
}

/// A view's CPU and memory from the ring buffers: each object's pods summed
/// per sampling round, then averaged per step.
fn fallback_view(history: &History, req: &ViewRequest, now: i64) -> ViewSeries {
    let step = step_for(req.window.duration(), req.width);
    let (start, end) = query_range(now, req.window.duration(), step);
    let step_s = step.as_secs().max(1) as i64;
    let wanted: Vec<Metric> = req
        .metrics()
        .into_iter()
        .filter(|m| matches!(m, Metric::Cpu | Metric::Memory))
        .collect();
    let mut objects = BTreeMap::new();
    for name in &req.names {
        let mut rounds: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
        for ((ns, pod), ring) in &history.pods {
            if *ns != req.namespace || !req.kind.owns_pod(name, pod) {
                continue;
            }
            for s in ring
                .iter()
                .filter(|s| s.t > start - step_s && s.t <= end + step_s)
            {
                let r = rounds.entry(s.t).or_insert((0.0, 0.0));
                r.0 += f64::from(s.cpu);
                r.1 += f64::from(s.memory);
            }
        }
        if rounds.is_empty() {
            continue;
        }
        // Bucket rounds by step: (bucket start) → (sum cpu, sum mem, n).
        let mut buckets: BTreeMap<i64, (f64, f64, u32)> = BTreeMap::new();
        for (t, (cpu, mem)) in rounds {
            let b = buckets
                .entry(t.div_euclid(step_s) * step_s)
                .or_insert((0.0, 0.0, 0));
            b.0 += cpu;
            b.1 += mem;
            b.2 += 1;
        }
        let mut obj = ObjectSeries::default();
        for m in &wanted {
            let points = buckets
                .iter()
                .map(|(t, (cpu, mem, n))| Point {
                    t: *t,
                    v: if *m == Metric::Cpu { cpu } else { mem } / f64::from(*n),
                })
                .collect();
            obj.series.insert(*m, points);
        }
        objects.insert(name.clone(), obj);
    }
    ViewSeries {
        kind: req.kind,
        namespace: req.namespace.clone(),
        window: req.window,
        step,
        start,
        end,
        objects,
        origin: Origin::MetricsServer,
        history_since: Some(history.since),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    #[test]
    fn the_step_gives_about_one_point_per_column() {
        for w in Window::ALL {
            for width in [1u16, 7, 40, 60, 80, 200, 1000] {
                let step = step_for(w.duration(), width);
                assert!(step >= Duration::from_secs(1));
                let (start, end) = query_range(1_700_000_123, w.duration(), step);
                let points = (end - start) / step.as_secs() as i64 + 1;
                assert!(
                    points <= i64::from(width)
                        && points * 2 >= i64::from(width).min(w.duration().as_secs() as i64),
                    "{w:?} width {width}: step {step:?}, {points} points"
                );
                assert_eq!(end % step.as_secs() as i64, 0, "aligned end");
            }
        }
        assert_eq!(step_for(Window::M5.duration(), 60), Duration::from_secs(5));
        assert_eq!(
            step_for(Window::H6.duration(), 80),
            Duration::from_secs(270)
        );
        assert_eq!(step_for(Window::M5.duration(), 0), Duration::from_secs(300));
        assert_eq!(
            step_for(Window::M5.duration(), 1000),
            Duration::from_secs(1)
        );
        assert_eq!(Window::H6.next(), Window::M5);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
        };
        let delays: Vec<u64> = (1..=8).map(|n| b.delay(n).as_millis() as u64).collect();
        assert_eq!(delays, vec![500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(8));
    }

    #[test]
    fn health_goes_slow_down_and_back_with_a_fake_clock() {
        let t0 = Instant::now();
        let s = |n: u64| t0 + Duration::from_secs(n);
        let mut h = HealthTracker::new(
            Duration::from_secs(2),
            Backoff {
                base: Duration::from_secs(1),
                cap: Duration::from_secs(4),
            },
        );
        assert_eq!(h.admit(t0), Ok(()));
        assert!(!h.succeeded(Duration::from_millis(300)));
        assert_eq!(h.health(), Health::Ok);
        assert!(h.succeeded(Duration::from_secs(3)), "slow is a change");
        assert_eq!(h.health(), Health::Slow);

        // Two queries were out when it died: one outage, one failure.
        assert!(h.failed(s(10), "refused".into()));
        assert!(!h.failed(s(10), "refused".into()));
        assert_eq!((h.health(), h.failures()), (Health::Down, 1));
        assert_eq!(h.retry_in(s(10)), Some(Duration::from_secs(1)));
        assert!(h.admit(s(10)).is_err(), "backing off");
        assert_eq!(h.admit(s(11)), Ok(()), "the probe");
        assert!(h.admit(s(11)).is_err(), "one probe at a time");
        h.failed(s(11), "refused".into());
        assert_eq!(h.retry_in(s(11)), Some(Duration::from_secs(2)));
        assert_eq!(h.admit(s(13)), Ok(()));
        h.failed(s(13), "refused".into());
        assert_eq!(h.retry_in(s(13)), Some(Duration::from_secs(4)));
        assert_eq!(h.admit(s(17)), Ok(()));
        h.failed(s(17), "timeout".into());
        assert_eq!(h.retry_in(s(17)), Some(Duration::from_secs(4)), "capped");
        assert_eq!(h.last_error(), Some("timeout"));

        assert_eq!(h.admit(s(21)), Ok(()));
        assert!(h.succeeded(Duration::from_millis(10)));
        assert_eq!(
            (h.health(), h.failures(), h.retry_in(s(21))),
            (Health::Ok, 0, None)
        );
        assert_eq!(h.admit(s(21)), Ok(()));
    }

    #[test]
    fn only_the_newest_ticket_of_a_view_is_current() {
        let t = Tickets::default();
        let a1 = t.issue("pods");
        let b1 = t.issue("workloads");
        let a2 = t.issue("pods");
        assert!(!t.is_current(&a1));
        assert!(t.is_current(&a2) && t.is_current(&b1));
        assert!(a2.generation > a1.generation);
    }

    fn pod_metrics(ns: &str, name: &str, cpu: &str, mem: &str) -> PodUsage {
        serde_json::from_value(json!({
            "apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics",
            "metadata": {"name": name, "namespace": ns},
            "timestamp": "2026-01-01T00:00:00Z", "window": "15s",
            "containers": [
                {"name": "app", "usage": {"cpu": cpu, "memory": mem}},
                {"name": "bad", "usage": {"cpu": "nonsense"}}
            ]
        }))
        .unwrap_or_else(|e| panic!("fixture: {e}"))
    }

    #[test]
    fn fallback_sums_a_workloads_pods_per_round_and_keeps_buffers_bounded() {
        let options = SamplerOptions {
            capacity: 4,
            ..SamplerOptions::default()
        };
        let mut h = History {
            since: Utc::now(),
            pods: HashMap::new(),
        };
        let now = 1_700_000_000 - 1_700_000_000 % 300;
        for round in 0..6 {
            let t = now - 75 + round * 15;
            let mut items = vec![
                pod_metrics("demo", "web-5d8f-abcde", "100m", "10Mi"),
                pod_metrics(
                    "demo",
                    "web-5d8f-fghij",
                    &format!("{}m", 100 + round * 10),
                    "20Mi",
                ),
                pod_metrics("demo", "web-api-77-xyz12", "900m", "1Gi"),
                pod_metrics("other", "web-5d8f-zzzzz", "900m", "1Gi"),
            ];
            if round == 0 {
                items.push(pod_metrics("demo", "gone-1", "1m", "1Mi"));
            }
            h.record(t, &items, &options);
        }
        assert!(h.pods.values().all(|r| r.len() <= 4));
        let req = ViewRequest {
            view: "w".into(),
            kind: ObjectKind::Deployment,
            namespace: "demo".into(),
            names: vec!["web".into(), "nothing".into()],
            metrics: vec![],
            window: Window::M5,
            width: 300,
        };
        let v = fallback_view(&h, &req, now);
        assert_eq!(v.origin, Origin::MetricsServer);
        assert_eq!(v.history_since, Some(h.since));
        assert!(v.object("nothing").is_none());
        let web = v.object("web").unwrap_or_else(|| panic!("{v:?}"));
        let cpu = web.get(Metric::Cpu);
        assert_eq!(cpu.len(), 4, "the newest 4 rounds: {cpu:?}");
        // Samples are f32: a millicore is far above their precision.
        assert!((cpu[3].v - 0.25).abs() < 1e-6, "100m + 150m: {cpu:?}");
        assert!(cpu.windows(2).all(|w| w[0].v < w[1].v));
        assert_eq!(web.latest(Metric::Memory), Some(30.0 * 1048576.0));
        assert!(
            web.get(Metric::RequestRate).is_empty(),
            "no traffic data without Prometheus"
        );

        // A pod whose samples are older than a full buffer is forgotten.
        h.record(now + 15 * 4 * 15, &[], &options);
        assert!(h.pods.is_empty(), "{:?}", h.pods.keys().collect::<Vec<_>>());
    }

    #[test]
    fn a_feed_keeps_health_and_back_off_for_the_sampler_that_lists() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let options = SamplerOptions {
            period: Duration::from_secs(15),
            ..SamplerOptions::default()
        };
        let backoff = Backoff {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(60),
        };
        let (src, feed) = MetricsSource::metrics_server_fed(options, backoff, tx);
        let health = |rx: &mut tokio::sync::mpsc::UnboundedReceiver<MetricsMsg>| match rx.try_recv()
        {
            Ok(MetricsMsg::Health(s)) => Some(s.health),
            _ => None,
        };

        feed.listing();
        let wait = feed.failed("connection refused".into());
        assert!(
            wait <= Duration::from_secs(2) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert_eq!(health(&mut rx), Some(Health::Down));
        assert!(
            src.status()
                .describe()
                .starts_with("metrics-server: down, retry in 2s")
        );
        // A list before the back-off has passed is the same outage.
        feed.listing();
        feed.failed("connection refused".into());
        assert_eq!(src.status().failures, 1);

        feed.listing();
        feed.record(
            &[pod_metrics("demo", "web-1", "5m", "1Mi")],
            Duration::from_millis(5),
        );
        assert_eq!(health(&mut rx), Some(Health::Ok));
        assert_eq!((src.status().health, src.samples_held()), (Health::Ok, 1));
        assert_eq!(src.status().retry_in, None);
    }

    #[test]
    fn status_lines_say_which_source_and_its_state() {
        let s = SourceStatus {
            origin: Origin::Prometheus,
            endpoint: "http://prom:9090".into(),
            health: Health::Down,
            failures: 3,
            retry_in: Some(Duration::from_millis(3500)),
            last_error: Some("refused".into()),
            history_since: None,
        };
        assert_eq!(
            s.describe(),
            "prometheus http://prom:9090: down, retry in 4s"
        );
        let since = DateTime::parse_from_rfc3339("2026-01-01T12:03:04Z")
            .map(|d| d.with_timezone(&Utc))
            .ok();
        let m = SourceStatus {
            origin: Origin::MetricsServer,
            endpoint: "metrics.k8s.io".into(),
            health: Health::Ok,
            failures: 0,
            retry_in: None,
            last_error: None,
            history_since: since,
        };
        assert_eq!(
            m.describe(),
            "metrics-server: ok, history since 12:03:04 UTC"
        );
        let stopped = SourceStatus {
            health: Health::Unavailable,
            last_error: Some("not allowed".into()),
            ..m
        };
        assert_eq!(
            stopped.describe(),
            "metrics-server: unavailable (not allowed), sampling stopped, history since 12:03:04 UTC"
        );
    }

    #[test]
    fn prometheus_config_reads_from_toml_and_rejects_what_cannot_work() {
        let c: PrometheusConfig =
            toml::from_str("url = 'http://prom:9090/'\nbearer-token = 'abc'\ntimeout = 2.5")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.slow_after, Duration::from_secs(2));
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let src = MetricsSource::prometheus(&c, Queries::default(), Backoff::default(), tx.clone());
        assert!(src.is_ok_and(|s| s.status().endpoint == "http://prom:9090"));

        let both = PrometheusConfig {
            basic_auth: Some(BasicAuth {
                username: "u".into(),
                password: "p".into(),
            }),
            ..c.clone()
        };
        let err =
            MetricsSource::prometheus(&both, Queries::default(), Backoff::default(), tx.clone());
        assert!(matches!(err, Err(MetricsError::Credentials(_))));
        let newline = PrometheusConfig {
            bearer_token: Some("a\nb".into()),
            ..c.clone()
        };
        let err =
            MetricsSource::prometheus(&newline, Queries::default(), Backoff::default(), tx.clone());
        assert!(
            matches!(err, Err(MetricsError::Credentials(_))),
            "no header injection"
        );
        let bad_queries = Queries {
            pod_cpu: "rate(x{pod=~\"$pod\"}[5m])".into(),
            ..Queries::default()
        };
        let err = MetricsSource::prometheus(&c, bad_queries, Backoff::default(), tx.clone());
        assert!(matches!(err, Err(MetricsError::Queries(e)) if e.contains("$pod")));
        let bad_url = PrometheusConfig {
            url: "not a url".into(),
            ..c.clone()
        };
        let err = MetricsSource::prometheus(&bad_url, Queries::default(), Backoff::default(), tx);
        assert!(matches!(err, Err(MetricsError::Url { .. })));
        assert!(toml::from_str::<PrometheusConfig>("timeout = -1").is_err());
    }

    /// A Prometheus over TLS with a certificate from a throwaway CA: its
    /// one answer is a CPU series for pod `web-1`.
    async fn tls_prometheus() -> (String, String, tokio::task::JoinHandle<()>) {
        let tls = kubedeck_sim::tls::generate("127.0.0.1").unwrap_or_else(|e| panic!("{e}"));
        let app = axum::Router::new().route(
            "/api/v1/query_range",
            axum::routing::get(|| async {
                axum::Json(json!({"status": "success", "data": {"resultType": "matrix",
                    "result": [{"metric": {"pod": "web-1"}, "values": [[unix_now(), "0.25"]]}]}}))
            }),
        );
        let config = axum_server::tls_rustls::RustlsConfig::from_pem(
            tls.cert_pem.into_bytes(),
            tls.key_pem.into_bytes(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let url = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().map(|a| a.port()).unwrap_or(0)
        );
        let server = axum_server::tls_rustls::from_tcp_rustls(listener, config)
            .unwrap_or_else(|e| panic!("{e}"));
        let task = tokio::spawn(async move {
            let _ = server.serve(app.into_make_service()).await;
        });
        (url, tls.ca_pem, task)
    }

    async fn ask_once(config: &PrometheusConfig) -> MetricsMsg {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let src = MetricsSource::prometheus(config, Queries::default(), Backoff::default(), tx)
            .unwrap_or_else(|e| panic!("{e}"));
        src.request(ViewRequest {
            view: "pods".into(),
            kind: ObjectKind::Pod,
            namespace: "demo".into(),
            names: vec!["web-1".into()],
            metrics: vec![Metric::Cpu],
            window: Window::M5,
            width: 30,
        });
        loop {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some(MetricsMsg::Health(_))) => {}
                Ok(Some(m)) => return m,
                other => panic!("no answer: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_custom_ca_lets_kubedeck_trust_a_private_prometheus() {
        let (url, ca_pem, server) = tls_prometheus().await;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, ca_pem).unwrap_or_else(|e| panic!("{e}"));
        let trusted = PrometheusConfig {
            url: url.clone(),
            ca_file: Some(ca),
            ..PrometheusConfig::default()
        };
        match ask_once(&trusted).await {
            MetricsMsg::Data { series, .. } => {
                assert_eq!(
                    series.object("web-1").and_then(|o| o.latest(Metric::Cpu)),
                    Some(0.25)
                );
            }
            other => panic!("the CA is trusted: {other:?}"),
        }
        let untrusted = PrometheusConfig {
            url,
            ..PrometheusConfig::default()
        };
        assert!(
            matches!(ask_once(&untrusted).await, MetricsMsg::Failed { .. }),
            "without the CA the certificate is refused"
        );
        server.abort();
    }

    #[test]
    fn a_ca_file_that_is_missing_or_not_pem_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let garbage = dir.path().join("ca.pem");
        std::fs::write(
            &garbage,
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "just text\n").unwrap_or_else(|e| panic!("{e}"));
        let missing = dir.path().join("missing.pem");
        for (path, why) in [
            (&garbage, "not a PEM certificate bundle"),
            (&empty, "no PEM certificate"),
            (&missing, "No such file"),
        ] {
            let config = PrometheusConfig {
                url: "https://prom.example:9090".into(),
                ca_file: Some(path.clone()),
                ..PrometheusConfig::default()
            };
            let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
            let err =
                MetricsSource::prometheus(&config, Queries::default(), Backoff::default(), tx)
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
            assert!(
                err.contains(&path.display().to_string()) && err.contains(why),
                "{path:?}: {err}"
            );
        }
    }
}
