//! The console's metrics against a real Prometheus (the Debian package's
//! binary, started here on 127.0.0.1) scraping an in-process `kubedeck sim`:
//! the runtime's pieces (watch cache, `ChartSource`, `update`, view model)
//! put a non-empty sparkline in the deployment's row and draw the HPA's
//! chart with its target.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::prometheus::Prometheus;
use kubedeck_console::charts::runtime::ChartSource;
use kubedeck_console::cluster::cache;
use kubedeck_console::cluster::watch::{self, Pending};
use kubedeck_console::input::keymap::Keymap;
use kubedeck_console::state::AppState;
use kubedeck_console::theme::{Role, Theme};
use kubedeck_console::update::{Effect, Msg, update};
use kubedeck_console::view_model::{self, ScreenVm};
use kubedeck_console::widgets;
use kubedeck_core::metrics::{PrometheusConfig, Queries};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WIDTH: u16 = 170;
/// Prometheus finds a new target after 5–7 s, a rate needs two scrapes, and
/// a row asks again once its step (30 s) has passed.
const DEADLINE: Duration = Duration::from_secs(120);

struct Console {
    state: AppState,
    cache: kubedeck_console::cluster::Cache,
    keymap: Keymap,
    watch_rx: tokio::sync::mpsc::UnboundedReceiver<watch::WatchMsg>,
    pending: Arc<Pending>,
    charts: ChartSource,
}

impl Console {
    /// Updates, and asks the source for what the screen needs as the
    /// runtime does.
    fn apply(&mut self, msg: Msg) {
        let out = update(
            &mut self.state,
            msg,
            &self.cache,
            &self.keymap,
            chrono::Utc::now(),
        );
        for effect in out.effects {
            if let Effect::RequestCharts(wanted) = effect {
                self.charts.want(wanted);
            }
        }
    }

    fn key(&mut self, k: &str) {
        self.apply(Msg::Key(k.parse().expect("a key")));
    }

    fn vm(&self) -> ScreenVm {
        view_model::build(&self.state, &self.cache, &self.keymap, chrono::Utc::now())
    }

    /// Runs the loop as the runtime does until `check` accepts the frame.
    async fn until<T>(&mut self, what: &str, check: impl Fn(&ScreenVm) -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            self.charts.send_due();
            tokio::select! {
                w = self.watch_rx.recv() => if let Some(w) = w {
                    if let watch::WatchMsg::Changed(k) = &w {
                        self.pending.take(*k);
                    }
                    self.apply(Msg::Watch(w));
                },
                c = self.charts.recv() => if let Some(c) = c {
                    self.apply(Msg::Charts(c));
                },
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            let vm = self.vm();
            if let Some(t) = check(&vm) {
                return t;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{what}: not within {DEADLINE:?}; header {:?}, rows {:?}, chart {:?}",
                vm.metrics,
                vm.table.rows,
                vm.chart
            );
        }
    }
}

fn drawn(vm: &ScreenVm) -> String {
    let theme = Theme::load(None, None, false).0;
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, 45)).expect("test terminal");
    terminal
        .draw(|f| widgets::draw(f, vm, &theme))
        .expect("draws");
    let buf = terminal.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deployment_row_has_a_sparkline_and_the_hpa_chart_its_target() {
    let ts = crate::common::start().await;
    let client = ts.client();
    crate::common::create_web_hpa(&ts).await;
    let mut prom = Prometheus::scraping(&ts);

    let (cache, writers) = cache::new();
    let (tx, watch_rx) = tokio::sync::mpsc::unbounded_channel();
    let pending = Arc::new(Pending::default());
    let tasks = watch::spawn_all(&client, None, writers, tx, pending.clone());
    let config = PrometheusConfig {
        url: prom.url.clone(),
        ..PrometheusConfig::default()
    };
    let charts = ChartSource::start(None, Some(&config), &Queries::default());
    let mut c = Console {
        state: AppState::new("sim", None, false),
        cache,
        keymap: Keymap::built_in_default(),
        watch_rx,
        pending,
        charts,
    };
    c.apply(Msg::Resize {
        width: WIDTH,
        height: 45,
    });
    c.key("2");

    let cpu = c
        .until("a CPU sparkline in demo/web's row", |vm| {
            let col = vm.table.column("CPU~")?;
            let row = vm
                .table
                .rows
                .iter()
                .find(|r| r[0].text == "demo" && r[1].text == "web")?;
            let cell = &row[col];
            (cell.role == Role::Sparkline && cell.text.chars().any(|ch| ('▁'..='█').contains(&ch)))
                .then(|| cell.text.clone())
        })
        .await;
    prom.check_running();
    let header = c.vm().metrics.map(|m| m.0).unwrap_or_default();
    assert!(
        header.starts_with(&format!(
            "metrics: prometheus {}: ok",
            prom.url.trim_end_matches('/')
        )),
        "{header}"
    );
    eprintln!("demo/web CPU: {cpu}");

    c.key("4");
    c.key("m");
    let frame = c
        .until("the HPA chart with CPU against its target", |vm| {
            let chart = vm.chart.as_ref()?;
            let cpu = chart.series.iter().find(|s| s.name == "cpu")?;
            let target = chart
                .series
                .iter()
                .find(|s| s.role == Role::SparklineTarget)?;
            (!cpu.points.is_empty() && target.points.iter().all(|p| p.1 == 80.0)).then(|| drawn(vm))
        })
        .await;
    assert!(frame.contains("hpa/web · last 5m"), "{frame}");
    assert!(
        frame.contains("target 80%") && frame.contains("── 80%"),
        "{frame}"
    );
    assert!(frame.contains("now ") && frame.contains("min "), "{frame}");
    for t in tasks {
        t.abort();
    }
    drop(prom);
}
