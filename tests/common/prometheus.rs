//! A real Prometheus (Debian's package) scraping a simulator every second,
//! started on a free loopback port and killed (and reaped) when the test
//! ends, pass or panic.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

pub struct Prometheus {
    child: Child,
    pub url: String,
    log: PathBuf,
    pub started: Instant,
}

impl Prometheus {
    pub fn start(dir: &Path, target: &str) -> Prometheus {
        let bin = "/usr/bin/prometheus";
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: apt-get install prometheus (.ci/run does)"
        );
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n- job_name: kubedeck-sim\n  metrics_path: /metrics\n  \
                 static_configs:\n  - targets: ['{target}']\n"
            ),
        )
        .expect("write the Prometheus config");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.join("prometheus.log");
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
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            started: Instant::now(),
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
