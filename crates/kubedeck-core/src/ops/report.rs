//! Recovery test reports as Markdown (to paste into a post-incident review
//! or a game-day log) and JSON (for tools), saved under the XDG data dir.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use super::service::ServiceMetrics;
use super::timeline::{Kill, Milestone, Report, Verdict};
use kubedeck_kube::duration::human;

/// `<data dir>/reports`.
pub(crate) fn reports_dir() -> Option<PathBuf> {
    crate::config::Paths::discover().map(|p| p.data_dir.join("reports"))
}

/// Where the Markdown and JSON go: `file` (and the same name with the other
/// extension), or a time-stamped name in `dir`.
pub fn paths(report: &Report, file: Option<&Path>, dir: &Path) -> (PathBuf, PathBuf) {
    match file {
        Some(f) if f.extension().is_some_and(|e| e == "json") => (f.with_extension("md"), f.into()),
        Some(f) if f.extension().is_some_and(|e| e == "md") => (f.into(), f.with_extension("json")),
        Some(f) => {
            let mut json = f.as_os_str().to_owned();
            json.push(".json");
            (f.into(), json.into())
        }
        None => {
            let stem = format!(
                "{}-{}-{}-{}",
                report.test,
                report.namespace,
                report.target.replace('/', "-"),
                report.started.format("%Y%m%d-%H%M%S")
            );
            (
                dir.join(format!("{stem}.md")),
                dir.join(format!("{stem}.json")),
            )
        }
    }
}

/// Writes both files, creating their folder; returns (markdown, json).
pub fn save(report: &Report, file: Option<&Path>) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = match file {
        Some(_) => PathBuf::new(),
        None => {
            reports_dir().context("no home directory for the reports folder; pass --report FILE")?
        }
    };
    let (md, json) = paths(report, file, &dir);
    for p in [&md, &json] {
        if let Some(parent) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
    }
    // Read with `cat` as often as with an editor: no escape sequences.
    let text = markdown(report);
    crate::private_file::write(&md, crate::terminal::safe(&text).as_bytes())
        .with_context(|| format!("cannot write {}", md.display()))?;
    let text = serde_json::to_string_pretty(report).context("cannot encode the report")?;
    crate::private_file::write(&json, text + "\n")
        .with_context(|| format!("cannot write {}", json.display()))?;
    Ok((md, json))
}

fn ms(v: u64) -> String {
    human(Duration::from_millis(v))
}

fn since(k: &Kill, m: Milestone) -> String {
    k.since_delete(m)
        .map_or_else(|| "—".to_string(), |d| format!("+{}", human(d)))
}

/// The report as Markdown: summary, verdict, one table per kill, the
/// endpoint count and the full event timeline.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let verdict = match r.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    let _ = writeln!(
        s,
        "# Pod-kill recovery test: {} in {} — {verdict}\n",
        r.target, r.namespace
    );
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| Context | {} |", r.context);
    let _ = writeln!(s, "| Run by | {} |", r.user);
    let _ = writeln!(
        s,
        "| Started | {} |",
        r.started.format("%Y-%m-%d %H:%M:%S%.3f UTC")
    );
    let _ = writeln!(s, "| Duration | {} |", r.duration());
    let _ = writeln!(
        s,
        "| Kill | {}, {}, {} iteration(s), {} apart |",
        r.mode,
        if r.force {
            "forced (grace period 0)"
        } else {
            "graceful"
        },
        r.iterations,
        ms(r.interval_ms)
    );
    let _ = writeln!(
        s,
        "| Limits | recovery within {}, at least {} Ready endpoint(s), abort after {} at zero |",
        ms(r.slo_ms),
        r.min_endpoints,
        ms(r.abort_after_ms)
    );
    let services = if r.services.is_empty() {
        "none (Ready pods counted)".to_string()
    } else {
        r.services.join(", ")
    };
    let _ = writeln!(s, "| Services | {services} |");
    let worst = r.worst_recovery().map_or_else(|| "—".to_string(), human);
    let _ = writeln!(s, "| Slowest recovery | {worst} |");
    let _ = writeln!(
        s,
        "| Ready endpoints | {} at start, minimum {}, {} at the end |",
        r.endpoints.initial, r.endpoints.minimum, r.endpoints.last
    );
    let _ = writeln!(
        s,
        "| Time at zero endpoints | {} ({} time(s)) |",
        ms(r.endpoints.time_at_zero_ms),
        r.endpoints.zero_periods
    );
    let _ = writeln!(s, "\n## Verdict: {verdict}\n");
    if let Some(a) = &r.aborted {
        let _ = writeln!(s, "The test was aborted: {a}.\n");
    }
    if r.reasons.is_empty() {
        let _ = writeln!(
            s,
            "Every kill recovered within the SLO and the endpoint minimum held."
        );
    }
    for reason in &r.reasons {
        let _ = writeln!(s, "- {reason}");
    }
    if let Some(m) = &r.service {
        service_section(&mut s, r, m);
    }
    let with_ep = r.with_endpoints();
    for k in &r.kills {
        let _ = writeln!(
            s,
            "\n## Iteration {}: pod {}{}\n",
            k.iteration,
            k.pod,
            k.node
                .as_ref()
                .map(|n| format!(" on {n}"))
                .unwrap_or_default()
        );
        if let Some(rep) = &k.replacement {
            let _ = writeln!(s, "Replaced by {rep}.\n");
        }
        if let Some(e) = &k.error {
            let _ = writeln!(s, "The delete failed: {e}\n");
        }
        let _ = writeln!(s, "| Step | Time (UTC) | Since delete |\n|---|---|---|");
        for m in Milestone::ALL {
            if m == Milestone::InEndpoints && !with_ep {
                continue;
            }
            let at = k.at(m).map_or_else(
                || "not seen".to_string(),
                |t| t.format("%H:%M:%S%.3f").to_string(),
            );
            let _ = writeln!(s, "| {} | {at} | {} |", m.label(), since(k, m));
        }
        let recovery = k
            .recovery(with_ep)
            .map_or_else(|| "not recovered".to_string(), human);
        let _ = writeln!(s, "\nRecovery (delete sent → serving): **{recovery}**");
    }
    let _ = writeln!(s, "\n## Timeline\n\n```");
    for e in &r.events {
        let _ = writeln!(s, "{}", e.line());
    }
    let _ = writeln!(s, "```");
    s
}

/// The service's 5xx ratio and p95 latency while the test ran. The
/// endpoint count above stays the outage figure; these only add to it.
fn service_section(s: &mut String, r: &Report, m: &ServiceMetrics) {
    let _ = writeln!(s, "\n## Service during the test\n\n{}.\n", m.summary());
    if m.not_measurable.is_some() {
        let _ = writeln!(
            s,
            "The Ready endpoint count above is the measure of this test's outage.\n"
        );
    }
    if let Some(e) = m.error.as_ref().filter(|_| !m.samples.is_empty()) {
        let _ = writeln!(s, "Partial: {e}.\n");
    }
    if m.samples.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "| Since start | 5xx ratio | p95 latency |\n|---|---|---|"
    );
    for x in &m.samples {
        let offset = (x.at - r.started).num_milliseconds();
        let since = if offset < 0 {
            format!("-{}", ms(offset.unsigned_abs()))
        } else {
            format!("+{}", ms(offset.unsigned_abs()))
        };
        let ratio = x
            .error_ratio
            .map_or_else(|| "—".to_string(), |v| format!("{:.2}%", v * 100.0));
        let p95 = x
            .p95_seconds
            .map_or_else(|| "—".to_string(), |v| format!("{:.0} ms", v * 1000.0));
        let _ = writeln!(s, "| {since} | {ratio} | {p95} |");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::service::ServiceSample;
    use crate::ops::timeline::{EndpointStats, TimelineEvent, What};
    use chrono::{DateTime, Utc};

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::milliseconds(ms)
    }

    fn report() -> Report {
        let mut k = Kill::new(1, "web-a", Some("n1".into()));
        k.replacement = Some("web-b".into());
        for (m, at) in [
            (Milestone::DeleteSent, 1000),
            (Milestone::Terminating, 1010),
            (Milestone::ReplacementCreated, 1020),
            (Milestone::Scheduled, 1130),
            (Milestone::ContainersStarted, 2300),
            (Milestone::Ready, 2300),
            (Milestone::InEndpoints, 2350),
        ] {
            k.times.insert(m, t(at));
        }
        let mut r = Report {
            test: "pod-kill".into(),
            context: "kind-dev".into(),
            user: "alice".into(),
            namespace: "demo".into(),
            target: "deployment/web".into(),
            mode: "1 random pod".into(),
            force: false,
            iterations: 1,
            interval_ms: 10_000,
            slo_ms: 30_000,
            min_endpoints: 1,
            abort_after_ms: 60_000,
            services: vec!["web".into()],
            started: t(0),
            finished: t(5000),
            kills: vec![k],
            endpoints: EndpointStats {
                initial: 2,
                minimum: 1,
                last: 2,
                time_at_zero_ms: 0,
                zero_periods: 0,
            },
            events: vec![TimelineEvent {
                at: t(1010),
                offset_ms: 1010,
                what: What::Endpoints { ready: 1 },
            }],
            aborted: None,
            verdict: Verdict::Pass,
            reasons: Vec::new(),
            service: None,
        };
        r.judge();
        r
    }

    #[test]
    fn markdown_shows_verdict_steps_and_missing_ones() {
        let md = markdown(&report());
        assert!(md.starts_with("# Pod-kill recovery test: deployment/web in demo — PASS"));
        assert!(md.contains("| ready | 00:00:02.300 | +1.30s |"), "{md}");
        assert!(md.contains("| old pod gone | not seen | — |"), "{md}");
        assert!(
            md.contains("Recovery (delete sent → serving): **1.35s**"),
            "{md}"
        );
        assert!(md.contains("+1.01s  ready endpoints: 1"), "{md}");
        assert!(!md.contains("Service during the test"), "{md}");
    }

    #[test]
    fn markdown_shows_the_service_during_the_test() {
        let mut r = report();
        r.service = Some(ServiceMetrics {
            source: "http://127.0.0.1:9090".into(),
            step_ms: 1000,
            window_ms: 2000,
            scrape_interval_ms: Some(500),
            not_measurable: None,
            samples: vec![
                ServiceSample {
                    at: t(1000),
                    error_ratio: Some(0.002),
                    p95_seconds: Some(0.12),
                },
                ServiceSample {
                    at: t(2000),
                    error_ratio: Some(0.031),
                    p95_seconds: None,
                },
            ],
            max_error_ratio: Some(0.031),
            max_p95_seconds: Some(0.12),
            error: None,
        });
        let md = markdown(&r);
        assert!(
            md.contains(
                "peak 5xx ratio 3.10%, peak p95 latency 120 ms (2 samples, 2.00s rate every 1.00s"
            ),
            "{md}"
        );
        assert!(md.contains("| +1.00s | 0.20% | 120 ms |"), "{md}");
        assert!(md.contains("| +2.00s | 3.10% | — |"), "{md}");
        let back: Report = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_test_too_short_to_measure_shows_no_number() {
        let mut r = report();
        r.service = Some(ServiceMetrics {
            source: "http://127.0.0.1:9090".into(),
            step_ms: 0,
            window_ms: 0,
            scrape_interval_ms: Some(15_000),
            not_measurable: Some(
                crate::ops::service::resolution(r.started, r.finished, Duration::from_secs(15))
                    .unwrap_err(),
            ),
            samples: Vec::new(),
            max_error_ratio: None,
            max_p95_seconds: None,
            error: None,
        });
        let md = markdown(&r);
        let section = &md[md.find("## Service during the test").unwrap()..];
        let section = &section[..section.find("\n## Iteration").unwrap()];
        assert!(
            section.contains("not measurable at this resolution"),
            "{section}"
        );
        assert!(!section.contains('%'), "{section}");
        assert!(section.contains("Ready endpoint count above"), "{section}");
    }

    #[test]
    fn report_files_pair_markdown_and_json() {
        let r = report();
        let (md, json) = paths(&r, None, Path::new("/r"));
        assert_eq!(
            md,
            Path::new("/r/pod-kill-demo-deployment-web-19700101-000000.md")
        );
        assert_eq!(
            json,
            Path::new("/r/pod-kill-demo-deployment-web-19700101-000000.json")
        );
        let (md, json) = paths(&r, Some(Path::new("out/x.json")), Path::new("/r"));
        assert_eq!(
            (md.as_path(), json.as_path()),
            (Path::new("out/x.md"), Path::new("out/x.json"))
        );
        let (md, json) = paths(&r, Some(Path::new("game-day")), Path::new("/r"));
        assert_eq!(
            (md.as_path(), json.as_path()),
            (Path::new("game-day"), Path::new("game-day.json"))
        );

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub").join("t.md");
        let (md, json) = save(&r, Some(&file)).unwrap();
        assert!(std::fs::read_to_string(md).unwrap().contains("PASS"));
        let back: Report = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
