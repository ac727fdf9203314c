//! Container logs: believable lines derived from each container's state and
//! the clock, so that nothing is generated until somebody reads it.
//!
//! A container instance (one start of one container) writes a few startup
//! lines at its start time, then one application line every
//! `delays.log_interval`: HTTP access lines for web-ish images, statements
//! for postgres/mysql, persistence notes for redis, job lines otherwise. An
//! instance that crashed ends with a fatal error; one that completed ends
//! with a shutdown line. Text is a pure function of (seed, pod uid,
//! container, instance start, line index), so every read agrees.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::controllers::Ctx;
use super::controllers::kubelet::{Behavior, behavior, image_tag};
use super::error::{ApiError, ApiResult};
use super::hash::{fnv64_parts, splitmix64};
use super::store::{meta_str, parse_time};

/// At most this many of the most recent lines are returned.
pub(crate) const HISTORY_CAP: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogLine {
    pub(crate) time: DateTime<Utc>,
    pub(crate) text: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Flavor {
    Web,
    Nginx,
    Postgres,
    Mysql,
    Redis,
    Worker,
}

fn flavor(image: &str) -> Flavor {
    let no_tag = image.split('@').next().unwrap_or(image);
    let repo = no_tag.rsplit('/').next().unwrap_or(no_tag);
    let repo = repo.split(':').next().unwrap_or(repo).to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| repo.contains(w));
    if has(&["nginx"]) {
        Flavor::Nginx
    } else if has(&["postgres", "pg"]) {
        Flavor::Postgres
    } else if has(&["mysql", "mariadb"]) {
        Flavor::Mysql
    } else if has(&["redis", "valkey"]) {
        Flavor::Redis
    } else if has(&[
        "web", "api", "http", "front", "gateway", "proxy", "ui", "app", "shop", "server",
    ]) {
        Flavor::Web
    } else {
        Flavor::Worker
    }
}

/// One container instance: when it ran and how it ended.
struct Instance {
    start: DateTime<Utc>,
    /// The exit time and code, known or (for a running container that is
    /// bound to exit) predicted.
    end: Option<(DateTime<Utc>, i32)>,
    image: String,
    seed: u64,
}

fn pick<'a>(r: u64, items: &[&'a str]) -> &'a str {
    items[(r % items.len() as u64) as usize]
}

fn startup(f: Flavor, image: &str) -> Vec<String> {
    let tag = image_tag(image);
    match f {
        Flavor::Nginx => {
            let version = if tag.starts_with(|c: char| c.is_ascii_digit()) {
                tag
            } else {
                "1.27.3"
            };
            vec![
                "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration".into(),
                "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh".into(),
                "/docker-entrypoint.sh: Configuration complete; ready for start up".into(),
                "[notice] 1#1: using the \"epoll\" event method".into(),
                format!("[notice] 1#1: nginx/{version}"),
                "[notice] 1#1: start worker processes".into(),
            ]
        }
        Flavor::Postgres => vec![
            "PostgreSQL Database directory appears to contain a database; Skipping initialization"
                .into(),
            format!("LOG:  starting PostgreSQL {tag} on x86_64-pc-linux-gnu"),
            "LOG:  listening on IPv4 address \"0.0.0.0\", port 5432".into(),
            "LOG:  database system is ready to accept connections".into(),
        ],
        Flavor::Mysql => vec![
            "[System] [MY-010116] [Server] /usr/sbin/mysqld starting as process 1".into(),
            "[System] [MY-013576] [InnoDB] InnoDB initialization has started.".into(),
            format!(
                "[System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '{tag}'  port: 3306"
            ),
        ],
        Flavor::Redis => vec![
            "1:C * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo".into(),
            format!("1:C * Redis version={tag}, bits=64, pid=1, just started"),
            "1:M * Server initialized".into(),
            "1:M * Ready to accept connections tcp".into(),
        ],
        Flavor::Web => vec![
            format!("starting server version={tag}"),
            "loaded configuration from /etc/app/config.yaml".into(),
            "listening on :8080".into(),
        ],
        Flavor::Worker => vec![
            format!("starting worker version={tag}"),
            "connected to queue \"jobs\"".into(),
        ],
    }
}

fn app_line(f: Flavor, r: u64) -> String {
    let (a, b, c) = (splitmix64(r), splitmix64(r ^ 1), splitmix64(r ^ 2));
    let ms = 2 + a % 180;
    match f {
        Flavor::Web | Flavor::Nginx => {
            let path = pick(
                b,
                &[
                    "/api/orders",
                    "/api/orders/4821",
                    "/api/cart",
                    "/api/users/me",
                    "/api/products?page=2",
                    "/healthz",
                    "/",
                    "/static/app.js",
                ],
            );
            let method = if path.starts_with("/api/cart") && c % 3 == 0 {
                "POST"
            } else {
                "GET"
            };
            let status = match c % 50 {
                0 => 500,
                1 | 2 => 404,
                3 if method == "POST" => 201,
                _ => 200,
            };
            if f == Flavor::Nginx {
                let ip = format!("10.244.{}.{}", a % 3, 2 + b % 40);
                let bytes = 200 + c % 4000;
                format!(
                    "{ip} - - \"{method} {path} HTTP/1.1\" {status} {bytes} \"-\" \"Mozilla/5.0\" {ms}ms"
                )
            } else {
                format!("{method} {path} {status} {ms}ms")
            }
        }
        Flavor::Postgres => {
            let stmt = pick(
                b,
                &[
                    "SELECT * FROM orders WHERE id = $1",
                    "UPDATE carts SET updated_at = now() WHERE user_id = $1",
                    "INSERT INTO events (kind, payload) VALUES ($1, $2)",
                    "SELECT count(*) FROM sessions WHERE expires_at > now()",
                ],
            );
            if c % 20 == 0 {
                "LOG:  checkpoint starting: time".to_string()
            } else {
                format!("LOG:  duration: {ms}.{:03} ms  statement: {stmt}", c % 1000)
            }
        }
        Flavor::Mysql => {
            let stmt = pick(
                b,
                &[
                    "SELECT * FROM orders WHERE id = 4821",
                    "UPDATE inventory SET qty = qty - 1 WHERE sku = 'A-118'",
                    "SELECT name, price FROM products LIMIT 20",
                ],
            );
            format!("[Note] [MY-000000] [Server] Query ({ms} ms): {stmt}")
        }
        Flavor::Redis => match c % 3 {
            0 => "1:M * 100 changes in 300 seconds. Saving...".to_string(),
            1 => format!("1:M * Background saving started by pid {}", 20 + a % 900),
            _ => "1:M * Background saving terminated with success".to_string(),
        },
        Flavor::Worker => match c % 4 {
            0 => format!("queue depth {}", a % 40),
            _ => format!(
                "processed job {} ({}) in {ms}ms",
                10_000 + b % 90_000,
                pick(
                    c,
                    &[
                        "send-email",
                        "resize-image",
                        "sync-inventory",
                        "charge-card"
                    ]
                )
            ),
        },
    }
}

fn final_lines(f: Flavor, code: i32, r: u64) -> Vec<String> {
    if code == 0 {
        return vec![match f {
            Flavor::Worker => "all jobs done; exiting".to_string(),
            _ => "received SIGTERM, shutting down gracefully".to_string(),
        }];
    }
    let cause = pick(
        splitmix64(r),
        &[
            "failed to connect to database: connection refused",
            "failed to load configuration: open /etc/app/config.yaml: no such file or directory",
            "runtime error: invalid memory address or nil pointer dereference",
        ],
    );
    vec![
        format!("error: {cause}"),
        format!("panic: {cause}"),
        "goroutine 1 [running]:".to_string(),
    ]
}

impl Instance {
    fn flavor(&self) -> Flavor {
        flavor(&self.image)
    }

    /// The lines written up to `now`, the most recent `HISTORY_CAP` of them.
    fn lines(&self, interval: chrono::Duration, now: DateTime<Utc>) -> Vec<LogLine> {
        if now < self.start {
            return Vec::new();
        }
        let f = self.flavor();
        let head = startup(f, &self.image);
        let end = self.end.filter(|(t, _)| *t <= now);
        let upto = end.map_or(now, |(t, _)| t);
        let step = interval.num_milliseconds().max(1);
        let span = (upto - self.start).num_milliseconds().max(0);
        let mut n = (span / step) as usize;
        // A line falling exactly on the exit instant belongs to the exit.
        if end.is_some() && n > 0 && span % step == 0 {
            n -= 1;
        }
        let tail = end
            .map(|(_, code)| final_lines(f, code, self.seed))
            .unwrap_or_default();
        let total = head.len() + n + tail.len();
        let skip = total.saturating_sub(HISTORY_CAP);
        let mut out = Vec::with_capacity(total - skip);
        for idx in skip..total {
            let line = if idx < head.len() {
                LogLine {
                    time: self.start + chrono::Duration::milliseconds(idx as i64),
                    text: head[idx].clone(),
                }
            } else if idx < head.len() + n {
                let k = (idx - head.len() + 1) as i64;
                LogLine {
                    time: self.start + chrono::Duration::milliseconds(k * step),
                    text: app_line(f, self.seed ^ splitmix64(k as u64)),
                }
            } else {
                LogLine {
                    time: upto,
                    text: tail[idx - head.len() - n].clone(),
                }
            };
            out.push(line);
        }
        out
    }

    fn next_after(
        &self,
        interval: chrono::Duration,
        after: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if after < self.start {
            return Some(self.start);
        }
        let step = interval.num_milliseconds().max(1);
        let k = (after - self.start).num_milliseconds() / step + 1;
        let next = self.start + chrono::Duration::milliseconds(k * step);
        match self.end {
            Some((end, _)) if next >= end => (end > after).then_some(end),
            _ => Some(next),
        }
    }
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default()
}

/// Finds the container's spec and status, with the API server's errors.
fn resolve<'a>(pod: &'a Value, container: &str) -> ApiResult<(&'a Value, Option<&'a Value>)> {
    let pod_name = meta_str(pod, "name");
    let spec = &pod["spec"];
    let mains = names(&spec["containers"]);
    let name = if container.is_empty() {
        if mains.len() == 1 {
            mains[0]
        } else {
            let inits = names(&spec["initContainers"]);
            let mut msg = format!(
                "a container name must be specified for pod {pod_name}, choose one of: [{}]",
                mains.join(" ")
            );
            if !inits.is_empty() {
                msg.push_str(&format!(
                    " or one of the init containers: [{}]",
                    inits.join(" ")
                ));
            }
            return Err(ApiError::bad_request(msg));
        }
    } else {
        container
    };
    for (list, statuses) in [
        ("containers", "containerStatuses"),
        ("initContainers", "initContainerStatuses"),
        ("ephemeralContainers", "ephemeralContainerStatuses"),
    ] {
        if let Some(c) = spec[list]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == name))
        {
            let status = pod["status"][statuses]
                .as_array()
                .and_then(|a| a.iter().find(|s| s["name"] == name));
            return Ok((c, status));
        }
    }
    Err(ApiError::bad_request(format!(
        "container {name} is not valid for pod {pod_name}"
    )))
}

fn terminated_instance(t: &Value, image: &str, seed: u64) -> Option<Instance> {
    let start = parse_time(t["startedAt"].as_str()?)?;
    let end = parse_time(t["finishedAt"].as_str().unwrap_or("")).unwrap_or(start);
    Some(Instance {
        start,
        end: Some((end, t["exitCode"].as_i64().unwrap_or(0) as i32)),
        image: image.to_string(),
        seed,
    })
}

fn instance_seed(ctx: &Ctx, pod: &Value, container: &str, started: &str) -> u64 {
    let seed = ctx.config.seed.to_string();
    fnv64_parts(&[&seed, meta_str(pod, "uid"), container, started], 0)
}

/// The instance a read is about, or the API server's refusal.
fn instance(
    ctx: &Ctx,
    pod: &Value,
    container: &str,
    previous: bool,
) -> ApiResult<Option<Instance>> {
    let (spec, status) = resolve(pod, container)?;
    let name = spec["name"].as_str().unwrap_or("");
    let pod_name = meta_str(pod, "name");
    if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
        // An unscheduled pod has no logs yet, and the API server says nothing.
        return Ok(None);
    }
    let null = Value::Null;
    let status = status.unwrap_or(&null);
    let image = status["image"]
        .as_str()
        .or(spec["image"].as_str())
        .unwrap_or("");
    let last = &status["lastState"]["terminated"];
    let seed_of = |t: &Value| instance_seed(ctx, pod, name, t["startedAt"].as_str().unwrap_or(""));
    if previous {
        return terminated_instance(last, image, seed_of(last))
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "previous terminated container \"{name}\" in pod \"{pod_name}\" not found"
                ))
            });
    }
    let state = &status["state"];
    if let Some(started) = state["running"]["startedAt"].as_str()
        && let Some(start) = parse_time(started)
    {
        let is_init = pod["spec"]["initContainers"]
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["name"] == name));
        let d = &ctx.config.delays;
        let end = match behavior(image, is_init) {
            Behavior::Crash => Some((start + chrono_dur(d.crash_after), 1)),
            Behavior::Exit(code) if !is_init => Some((start + chrono_dur(d.crash_after), code)),
            _ => None,
        };
        return Ok(Some(Instance {
            start,
            end,
            image: image.to_string(),
            seed: instance_seed(ctx, pod, name, started),
        }));
    }
    let term = &state["terminated"];
    if let Some(inst) = terminated_instance(term, image, seed_of(term)) {
        return Ok(Some(inst));
    }
    // Restarting after a crash: the dead instance's logs, as the kubelet serves.
    if let Some(inst) = terminated_instance(last, image, seed_of(last)) {
        return Ok(Some(inst));
    }
    let reason = state["waiting"]["reason"]
        .as_str()
        .unwrap_or("ContainerCreating");
    let why = match reason {
        "ErrImagePull" => "image can't be pulled",
        "ImagePullBackOff" => "trying and failing to pull image",
        other => other,
    };
    Err(ApiError::bad_request(format!(
        "container \"{name}\" in pod \"{pod_name}\" is waiting to start: {why}"
    )))
}

fn chrono_dur(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn interval(ctx: &Ctx) -> chrono::Duration {
    chrono_dur(ctx.config.delays.log_interval)
}

/// The lines a container has written up to `now` (its previous instance's
/// with `previous`), oldest first, at most `HISTORY_CAP`. `container` may be
/// empty for a pod with one container.
pub(crate) fn history(
    ctx: &Ctx,
    pod: &Value,
    container: &str,
    previous: bool,
    now: DateTime<Utc>,
) -> ApiResult<Vec<LogLine>> {
    let Some(inst) = instance(ctx, pod, container, previous)? else {
        return Ok(Vec::new());
    };
    // A workload's own story ends with its run; `finishedAt` has whole
    // seconds only, so cutting at it would drop the run's last lines.
    if let Some(lines) = workload_lines(ctx, pod, container, inst.start, now) {
        return Ok(lines);
    }
    Ok(inst.lines(interval(ctx), now))
}

/// The lines of a container whose workload writes its own story (a database
/// backup), rather than the generic serving lines.
fn workload_lines(
    ctx: &Ctx,
    pod: &Value,
    container: &str,
    start: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Option<Vec<LogLine>> {
    let (spec, _) = resolve(pod, container).ok()?;
    let lines = crate::behaviour::log_lines(ctx, pod, spec, start, until)?;
    Some(
        lines
            .into_iter()
            .map(|(time, text)| LogLine { time, text })
            .collect(),
    )
}

/// When the container's current instance writes its next line after
/// `after`; None when it is not running (a follower then stops, as
/// `kubectl logs -f` does when the container exits).
pub(crate) fn next_line_at(
    ctx: &Ctx,
    pod: &Value,
    container: &str,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let (_, status) = resolve(pod, container).ok()?;
    status?["state"]["running"].as_object()?;
    let inst = instance(ctx, pod, container, false).ok().flatten()?;
    let horizon = after + chrono::Duration::days(1);
    if let Some(lines) = workload_lines(ctx, pod, container, inst.start, horizon) {
        return lines.into_iter().map(|l| l.time).find(|t| *t > after);
    }
    inst.next_after(interval(ctx), after)
}

#[cfg(test)]
mod tests {

    use serde_json::json;

    use super::*;
    use crate::test_support::test_ctx;

    fn t(s: &str) -> DateTime<Utc> {
        parse_time(s).expect("time")
    }

    fn running_pod(image: &str) -> Value {
        json!({"metadata": {"name": "web-abc", "namespace": "demo", "uid": "u-1"},
               "spec": {"nodeName": "n1", "containers": [{"name": "web", "image": image}]},
               "status": {"containerStatuses": [{"name": "web", "image": image, "restartCount": 0,
                   "state": {"running": {"startedAt": "2026-01-01T10:00:00Z"}}, "lastState": {}}]}})
    }

    #[test]
    fn lines_are_deterministic_paced_and_flavoured_by_image() {
        let c = test_ctx(&[]);
        let pod = running_pod("registry.example/web:1.0.0");
        let now = t("2026-01-01T10:00:10Z");
        let a = history(&c, &pod, "web", false, now).expect("logs");
        let b = history(&c, &pod, "", false, now).expect("logs");
        assert_eq!(a, b, "repeated reads agree");
        // 3 startup lines, then one line every 2s: at 2, 4, 6, 8 and 10s.
        assert_eq!(a.len(), 3 + 5);
        assert_eq!(a[0].text, "starting server version=1.0.0");
        assert_eq!(a[3].time, t("2026-01-01T10:00:02Z"));
        assert!(
            a[3..]
                .iter()
                .all(|l| l.text.starts_with("GET ") || l.text.starts_with("POST "))
        );
        assert!(a.windows(2).all(|w| w[0].time <= w[1].time));
        // A later read extends the same history.
        let later = history(&c, &pod, "web", false, t("2026-01-01T10:00:14Z")).expect("logs");
        assert_eq!(&later[..a.len()], &a[..]);
        assert_eq!(later.len(), a.len() + 2);
        assert_eq!(
            next_line_at(&c, &pod, "web", t("2026-01-01T10:00:10Z")),
            Some(t("2026-01-01T10:00:12Z"))
        );
        let pg = history(&c, &running_pod("postgres:16"), "web", false, now).expect("logs");
        assert!(pg[4].text.starts_with("LOG:  "));
    }

    #[test]
    fn a_long_running_container_returns_only_recent_lines() {
        let c = test_ctx(&[]);
        let pod = running_pod("worker:2");
        let lines = history(&c, &pod, "web", false, t("2026-02-01T10:00:00Z")).expect("logs");
        assert_eq!(lines.len(), HISTORY_CAP);
        assert_eq!(
            lines.last().map(|l| l.time),
            Some(t("2026-02-01T10:00:00Z"))
        );
    }

    #[test]
    fn crashed_instances_end_with_a_fatal_line_and_previous_reads_them() {
        let c = test_ctx(&[]);
        let mut pod = running_pod("api:crashloop");
        pod["status"]["containerStatuses"][0] = json!({"name": "web", "image": "api:crashloop",
            "restartCount": 1,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                "startedAt": "2026-01-01T10:00:00Z", "finishedAt": "2026-01-01T10:00:02Z"}}});
        let now = t("2026-01-01T10:05:00Z");
        let prev = history(&c, &pod, "web", true, now).expect("previous");
        assert!(prev.iter().any(|l| l.text.starts_with("panic: ")));
        assert_eq!(prev.last().map(|l| l.time), Some(t("2026-01-01T10:00:02Z")));
        // While restarting, the current read shows the dead instance too.
        assert_eq!(history(&c, &pod, "web", false, now).expect("current"), prev);
        assert_eq!(next_line_at(&c, &pod, "web", now), None);
        let fresh = running_pod("api:crashloop");
        let err = history(&c, &fresh, "web", true, now).expect_err("no previous");
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "previous terminated container \"web\" in pod \"web-abc\" not found"
        );
    }

    #[test]
    fn bad_requests_use_the_api_servers_messages() {
        let c = test_ctx(&[]);
        let now = t("2026-01-01T10:00:10Z");
        let mut waiting = running_pod("nginx");
        waiting["status"]["containerStatuses"][0]["state"] =
            json!({"waiting": {"reason": "ContainerCreating"}});
        let err = history(&c, &waiting, "web", false, now).expect_err("waiting");
        assert_eq!(
            err.message,
            "container \"web\" in pod \"web-abc\" is waiting to start: ContainerCreating"
        );
        waiting["status"]["containerStatuses"][0]["state"] =
            json!({"waiting": {"reason": "ImagePullBackOff"}});
        let err = history(&c, &waiting, "web", false, now).expect_err("pull");
        assert_eq!(
            err.message,
            "container \"web\" in pod \"web-abc\" is waiting to start: trying and failing to pull image"
        );
        let err = history(&c, &waiting, "db", false, now).expect_err("unknown");
        assert_eq!(err.message, "container db is not valid for pod web-abc");
        let mut two = running_pod("nginx");
        two["spec"]["containers"] =
            json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]);
        let err = history(&c, &two, "", false, now).expect_err("ambiguous");
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "a container name must be specified for pod web-abc, choose one of: [a b]"
        );
        let mut unscheduled = running_pod("nginx");
        unscheduled["spec"]["nodeName"] = Value::Null;
        assert_eq!(history(&c, &unscheduled, "web", false, now), Ok(Vec::new()));
    }
}
