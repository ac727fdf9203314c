//! Scale: `kubedeck sim --pods 10000` starts, its pods all come up, and the
//! real kubectl lists every one of them in chunks. Slow in a debug build, so
//! it runs on demand: `cargo test --release --test sim_scale -- --ignored
//! --nocapture` (the figures it prints are in the README's "Scale" section).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Streaming, run, wait_until};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_kubedeck");
const PODS: usize = 10_000;

fn kubectl(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Command {
    crate::common::require_kubectl();
    let mut cmd = Command::new(crate::common::KUBECTL);
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env("KUBECACHEDIR", cache)
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// The process' resident set size in MiB, from /proc.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: run with --ignored in release; figures in README"]
async fn ten_thousand_pods_start_and_list_in_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = dir.path().join("sim.kubeconfig");
    let cache = dir.path().join("cache");
    let t0 = Instant::now();
    let mut cmd = Command::new(BIN);
    cmd.args(["sim", "--scenario", "empty", "--pods", &PODS.to_string()])
        .arg("--kubeconfig-out")
        .arg(&kc)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut sim = Streaming::spawn(cmd);
    sim.wait_line(Duration::from_secs(60), |l| l.contains("kubeconfig"))
        .await;
    let serving = t0.elapsed();
    let pid = sim.child.id().unwrap_or(0);

    let count_pods = |selector: Option<&'static str>| {
        let (kc, cache) = (kc.clone(), cache.clone());
        async move {
            let mut args = vec!["get", "pods", "-A", "--chunk-size=500", "--no-headers"];
            if let Some(s) = selector {
                args.push(s);
            }
            let out = run(kubectl(&kc, &cache, &args), &args).await;
            if out.success {
                Ok(out.stdout.lines().filter(|l| !l.trim().is_empty()).count())
            } else {
                Err(out.stderr)
            }
        }
    };

    wait_until(
        &format!("{PODS} pods"),
        Duration::from_secs(240),
        || async {
            match count_pods(None).await? {
                n if n >= PODS => Ok(()),
                n => Err(format!("{n} pods")),
            }
        },
    )
    .await;
    let all_created = t0.elapsed();
    wait_until(
        &format!("{PODS} Running pods"),
        Duration::from_secs(240),
        || async {
            match count_pods(Some("--field-selector=status.phase!=Running")).await? {
                0 => Ok(()),
                n => Err(format!("{n} pods not Running")),
            }
        },
    )
    .await;
    let all_running = t0.elapsed();

    // The acceptance check itself: every pod, listed in chunks of 500.
    let t = Instant::now();
    let n = count_pods(None).await.unwrap_or_else(|e| panic!("{e}"));
    let chunked = t.elapsed();
    assert!(n >= PODS, "kubectl listed {n} of {PODS} pods");

    let t = Instant::now();
    let args = ["get", "pods", "-A", "-o", "json"];
    let out = run(kubectl(&kc, &cache, &args), &args).await;
    let json_time = t.elapsed();
    assert!(out.success, "{}", out.stderr);
    let listed = serde_json::from_str::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| v["items"].as_array().map(Vec::len))
        .unwrap_or(0);
    assert!(listed >= PODS, "-o json listed {listed} pods");

    println!(
        "scale {PODS}: serving after {serving:.2?}, all pods created after {all_created:.2?}, \
         all Running after {all_running:.2?}; RSS {:.0} MiB; \
         `get pods -A --chunk-size=500` {chunked:.2?}; `get pods -A -o json` {json_time:.2?} \
         ({} MiB of JSON)",
        rss_mib(pid).unwrap_or(0.0),
        out.stdout.len() / (1024 * 1024)
    );
    sim.stop().await;
}
