//! A real Prometheus (Debian's package) scraping a simulator every second,
//! started on a free loopback port and killed (and reaped) when the test
//! ends, pass or panic.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prometheus_http_query::Client;

/// How long a series may take to appear, counted from Prometheus' start:
/// Prometheus 2.x scrapes a new target only after its discovery delay
/// (5–7 s), and a rate needs two samples.
const PROMETHEUS_WAIT: Duration = Duration::from_secs(60);

pub struct Prometheus {
    child: Child,
    pub url: String,
    log: PathBuf,
    pub started: Instant,
}

impl Prometheus {
    pub fn start(dir: &Path, target: &str) -> Prometheus {
        Prometheus::start_every(dir, target, 1)
    }

    /// Prometheus scraping `target` every `every` seconds. The port comes
    /// from the OS and is free only once the socket is dropped, so another
    /// process may take it first: Prometheus then fails to bind and is
    /// started again on a new port.
    pub fn start_every(dir: &Path, target: &str, every: u32) -> Prometheus {
        let bin = "/usr/bin/prometheus";
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: apt-get install prometheus (.ci/run does)"
        );
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: {every}s\n  evaluation_interval: {every}s\n\
                 scrape_configs:\n- job_name: kubedeck-sim\n  metrics_path: /metrics\n  \
                 static_configs:\n  - targets: ['{target}']\n"
            ),
        )
        .expect("write the Prometheus config");
        let log = dir.join("prometheus.log");
        for _attempt in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let log_file = std::fs::File::create(&log).expect("create the Prometheus log");
            let child = Command::new(bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join("tsdb").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .expect("start Prometheus");
            let mut prometheus = Prometheus {
                child,
                url: format!("http://127.0.0.1:{port}"),
                log: log.clone(),
                started: Instant::now(),
            };
            if prometheus.wait_listening() {
                return prometheus;
            }
        }
        panic!(
            "Prometheus found no free port in 5 tries:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Waits for Prometheus' own word that it listens; false if it exited
    /// because its port was taken.
    fn wait_listening(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains("msg=\"Listening on\"") {
                return true;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(
                    log.contains("address already in use"),
                    "Prometheus exited ({status}):\n{log}"
                );
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus did not listen within 30 s:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A Prometheus scraping the simulator `ts`, its data under the test's
    /// directory.
    pub fn scraping(ts: &super::TestSim) -> Prometheus {
        let target = ts
            .url()
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        Prometheus::start(ts.dir.path(), &target)
    }

    /// Fails the test with Prometheus' log if it has exited.
    pub fn check_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!("Prometheus exited ({status}):\n{log}");
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Queries against a test Prometheus.
impl Prometheus {
    /// The samples of an instant query, as (labels, value).
    pub async fn query(&mut self, q: &str) -> Result<Vec<(String, f64)>, String> {
        self.check_running();
        let client = Client::try_from(self.url.as_str()).map_err(|e| e.to_string())?;
        let res = client.query(q).get().await.map_err(|e| e.to_string())?;
        let Some(v) = res.data().as_vector() else {
            return Err(format!("not a vector: {:?}", res.data()));
        };
        if v.is_empty() {
            return Err(format!("no samples for {q}"));
        }
        Ok(v.iter()
            .map(|s| {
                let mut labels: Vec<String> =
                    s.metric().iter().map(|(k, v)| format!("{k}={v}")).collect();
                labels.sort();
                (labels.join(","), s.sample().value())
            })
            .collect())
    }

    /// Polls `q` until it returns samples, failing after `PROMETHEUS_WAIT`
    /// (counted from the start of Prometheus) with the target's state.
    pub async fn wait_for(&mut self, q: &str) -> Vec<(String, f64)> {
        loop {
            let last = match self.query(q).await {
                Ok(v) => return v,
                Err(e) => e,
            };
            if self.started.elapsed() > PROMETHEUS_WAIT {
                panic!(
                    "no {q} within {PROMETHEUS_WAIT:?} of Prometheus' start: {last}; targets: {}",
                    self.targets().await
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The scrape target's health and last error, for failure messages.
    pub async fn targets(&self) -> String {
        let Ok(client) = Client::try_from(self.url.as_str()) else {
            return String::new();
        };
        match client.targets(None).await {
            Ok(t) => t
                .active()
                .iter()
                .map(|a| format!("{} {:?} {}", a.scrape_url(), a.health(), a.last_error()))
                .collect::<Vec<_>>()
                .join("; "),
            Err(e) => e.to_string(),
        }
    }
}
