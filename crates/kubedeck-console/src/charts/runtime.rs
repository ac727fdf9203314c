//! The runtime's side of metrics: it owns the source (Prometheus when one
//! is configured, else metrics-server sampled from now on), forwards its
//! answers as messages, and of the requests `update` says the screen needs
//! (`Effect::RequestCharts`) sends those that are new or whose answer is a
//! step old. The metrics-server source lists nothing itself: the pod rows'
//! sampler feeds it (`feed`), so each period costs one list.

use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::time::Instant;

use super::ChartMsg;
use super::request::Requester;
use kubedeck_core::metrics::source::Backoff;
use kubedeck_core::metrics::{
    Feed, MetricsMsg, MetricsSource, PrometheusConfig, Queries, SamplerOptions, ViewRequest,
};

pub struct ChartSource {
    source: MetricsSource,
    rx: UnboundedReceiver<MetricsMsg>,
    requester: Requester,
    /// Why the configured Prometheus is not used; said once.
    problem: Option<String>,
    /// The metrics-server source's intake, for the pod metrics sampler.
    feed: Option<Feed>,
    /// What the screen needs, as `update` last said.
    wanted: Vec<ViewRequest>,
    /// When the oldest answer on screen is a step old.
    pub deadline: Option<Instant>,
}

impl ChartSource {
    /// Must be called within a Tokio runtime.
    pub fn start(
        namespace: Option<&str>,
        prometheus: Option<&PrometheusConfig>,
        queries: &Queries,
    ) -> ChartSource {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut problem = None;
        let prom = prometheus.and_then(|p| {
            MetricsSource::prometheus(p, queries.clone(), Backoff::default(), tx.clone())
                .map_err(|e| {
                    tracing::warn!(
                        "not using Prometheus {}: {e}",
                        kubedeck_core::redact::Masked(&p.url)
                    );
                    problem = Some(format!(
                        "Prometheus not used: {e}; sparklines come from metrics-server"
                    ));
                })
                .ok()
        });
        let mut cap = None;
        let mut feed = None;
        let source = prom.unwrap_or_else(|| {
            let options = SamplerOptions {
                namespace: namespace.map(str::to_string),
                ..SamplerOptions::default()
            };
            cap = Some(options.period);
            let (source, f) =
                MetricsSource::metrics_server_fed(options, Backoff::default(), tx.clone());
            feed = Some(f);
            source
        });
        // The header names the source from the start.
        let _ = tx.send(MetricsMsg::Health(source.status()));
        ChartSource {
            source,
            rx,
            requester: Requester::with_cap(cap),
            problem,
            feed,
            wanted: Vec::new(),
            deadline: None,
        }
    }

    /// What the pod metrics sampler feeds when metrics-server is the
    /// source; None with Prometheus.
    pub(crate) fn feed(&self) -> Option<Feed> {
        self.feed.clone()
    }

    /// The source's next message, with its current status.
    pub async fn recv(&mut self) -> Option<ChartMsg> {
        let msg = self.rx.recv().await?;
        if let MetricsMsg::Health(_) = msg {
            // Back from down (or just started): ask for everything again
            // rather than wait out the steps.
            self.requester.reset();
        }
        Some(ChartMsg {
            msg,
            status: self.source.status(),
            problem: self.problem.take(),
        })
    }

    /// What the screen needs from now on (`Effect::RequestCharts`).
    pub fn want(&mut self, wanted: Vec<ViewRequest>) {
        self.wanted = wanted;
    }

    /// Sends what the screen needs and is not fresh; never waits.
    pub fn send_due(&mut self) {
        let (send, next) = self.requester.due(self.wanted.clone(), Instant::now());
        for req in send {
            self.source.request(req);
        }
        self.deadline = next;
    }
}
