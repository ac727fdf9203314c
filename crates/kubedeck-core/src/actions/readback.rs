//! When a change's answer is lost (the connection broke after the request
//! went out, no answer in time, a 5xx), the change may or may not have been
//! made. kubedeck does not guess: it reads the object back and says done,
//! not done, or that it cannot tell.

use std::error::Error as _;
use std::time::Duration;

use kube::Client;
use serde_json::Value;

use kubedeck_kube::duration::human;

/// How to tell whether one change was made: the object to read and what it
/// holds once the change is made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReadBack {
    /// `deployment/web`, for messages.
    pub object: String,
    /// The object's API path, for a GET.
    pub path: String,
    pub expect: Expect,
    /// What the action says when it is done (`deployment/web scaled to 3`).
    pub message: String,
}

/// What the object holds once the change is made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expect {
    /// Each JSON pointer holds its value; `null` stands for absent and
    /// `false` for absent too, as the API defaults those fields.
    Fields(Vec<(String, Value)>),
    /// The object is gone, replaced by another of its name, or being deleted.
    Deleted { uid: String },
    /// The object exists (a created Job has a name of its own).
    Exists,
    /// The workload's pod template, ignoring the pod-template-hash label.
    Template(Value),
    /// The named container (or init container) runs the image.
    Image { container: String, image: String },
    /// An edit's changed leaves (JSON pointers) hold their edited values,
    /// judged as `Fields` but told without values: an edit may be a
    /// Secret's.
    Edited(Vec<(String, Value)>),
}

/// What reading back found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// The change is there; says what was seen.
    Done(String),
    /// It is not; says what is there instead.
    NotDone(String),
}

/// How lost answers are read back: a few GETs, each bounded, with a pause
/// that doubles between them, so that a blip passes and a dead server
/// still ends in bounded time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBackPolicy {
    pub attempts: u32,
    /// Before the second attempt; doubled before each next one.
    pub pause: Duration,
    /// How long one GET may take.
    pub attempt_timeout: Duration,
}

impl Default for ReadBackPolicy {
    fn default() -> Self {
        ReadBackPolicy {
            attempts: 4,
            pause: Duration::from_millis(500),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

/// A JSON pointer to `key` in the annotations under `prefix`
/// (`/metadata`, `/spec/template/metadata`): `/` and `~` escaped.
pub(crate) fn annotation(prefix: &str, key: &str) -> String {
    format!(
        "{prefix}/annotations/{}",
        key.replace('~', "~0").replace('/', "~1")
    )
}

/// `/spec/replicas` → `spec.replicas`, for messages.
fn field_name(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "unset".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn holds(actual: Option<&Value>, want: &Value) -> bool {
    match want {
        Value::Null => actual.is_none_or(Value::is_null),
        Value::Bool(false) => actual.is_none_or(|v| v.is_null() || *v == Value::Bool(false)),
        w => actual == Some(w),
    }
}

impl ReadBack {
    /// Judges the object as read (None: it does not exist).
    pub(crate) fn judge(&self, obj: Option<&Value>) -> Seen {
        let object = &self.object;
        let Some(obj) = obj else {
            return match self.expect {
                Expect::Deleted { .. } => Seen::Done(format!("{object} is gone")),
                _ => Seen::NotDone(format!("{object} does not exist")),
            };
        };
        match &self.expect {
            Expect::Fields(fields) => {
                let mut wrong = Vec::new();
                let mut right = Vec::new();
                for (pointer, want) in fields {
                    let actual = obj.pointer(pointer);
                    let line = format!("{} is {}", field_name(pointer), shown(actual));
                    if holds(actual, want) {
                        right.push(line);
                    } else {
                        wrong.push(line);
                    }
                }
                if wrong.is_empty() {
                    Seen::Done(right.join(", "))
                } else {
                    Seen::NotDone(wrong.join(", "))
                }
            }
            Expect::Deleted { uid } => {
                // Without a uid to compare, only a deletion in progress counts.
                if !uid.is_empty() && obj["metadata"]["uid"].as_str() != Some(uid) {
                    Seen::Done(format!("{object} was replaced by a new one of that name"))
                } else if !obj["metadata"]["deletionTimestamp"].is_null() {
                    Seen::Done(format!("{object} is being deleted"))
                } else {
                    Seen::NotDone(format!("{object} is still there, not being deleted"))
                }
            }
            Expect::Exists => Seen::Done(format!("{object} exists")),
            Expect::Edited(fields) => {
                let wrong: Vec<String> = fields
                    .iter()
                    .filter(|(pointer, want)| !holds(obj.pointer(pointer), want))
                    .map(|(pointer, _)| field_name(pointer))
                    .collect();
                if wrong.is_empty() {
                    Seen::Done(format!("{object} holds the edited values"))
                } else {
                    Seen::NotDone(format!(
                        "{object} does not hold the edited {}",
                        wrong.join(", ")
                    ))
                }
            }
            Expect::Template(want) => {
                if super::executor::equal_ignoring_hash(&obj["spec"]["template"], want) {
                    Seen::Done(format!("{object} has the wanted pod template"))
                } else {
                    Seen::NotDone(format!("{object} still has another pod template"))
                }
            }
            Expect::Image { container, image } => {
                let spec = &obj["spec"]["template"]["spec"];
                let now = ["containers", "initContainers"].iter().find_map(|list| {
                    spec[*list]
                        .as_array()?
                        .iter()
                        .find(|c| c["name"] == container.as_str())
                        .map(|c| c["image"].as_str().unwrap_or_default().to_string())
                });
                let line = format!(
                    "container {container} runs {}",
                    now.as_deref().unwrap_or("nothing (no such container)")
                );
                if now.as_deref() == Some(image) {
                    Seen::Done(line)
                } else {
                    Seen::NotDone(line)
                }
            }
        }
    }
}

/// Why a failed change may still have been made, or None when it surely
/// was not: a definite answer from the server other than a 5xx, a request
/// that could not be built or authenticated, or a refused connection (no
/// request went out).
pub(crate) fn answer_lost(e: &kube::Error) -> Option<String> {
    match e {
        kube::Error::Api(status) if status.code >= 500 => Some(format!(
            "the API server answered HTTP {} ({})",
            status.code,
            if status.message.is_empty() {
                &status.reason
            } else {
                &status.message
            }
        )),
        kube::Error::Api(_)
        | kube::Error::BuildRequest(_)
        | kube::Error::HttpError(_)
        | kube::Error::Auth(_) => None,
        _ if refused(e) => None,
        // Transport failures, and answers that could not be read: the
        // request may have gone out and been applied.
        other => Some(format!(
            "the API server's answer was lost ({})",
            innermost(other)
        )),
    }
}

/// Whether the connection failed before a request could go out: refused,
/// or failed while connecting. hyper-util's client names the latter
/// "client error (Connect)" (its type is not kube's to expose); should
/// that text change, the change is read back, which is only slower.
fn refused(e: &kube::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        let io_refused = s
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
        if io_refused || s.to_string().starts_with("client error (Connect)") {
            return true;
        }
        source = s.source();
    }
    false
}

/// The deepest cause, which says what happened ("connection reset by
/// peer") where the outer ones say where ("client error (SendRequest)").
pub(crate) fn innermost(e: &kube::Error) -> String {
    let mut last = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    last
}

/// GETs the object: Some when it exists, None on 404.
async fn get(client: &Client, path: &str) -> Result<Option<Value>, kube::Error> {
    let req = http::Request::get(path)
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    match client.request::<Value>(req).await {
        Ok(v) => Ok(Some(v)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads the object back under `policy`: what was seen, or why it could
/// not be read.
pub(crate) async fn read_back(
    client: &Client,
    rb: &ReadBack,
    policy: ReadBackPolicy,
) -> Result<Seen, String> {
    let attempts = policy.attempts.max(1);
    let mut pause = policy.pause;
    let mut last = String::new();
    for attempt in 1..=attempts {
        match tokio::time::timeout(policy.attempt_timeout, get(client, &rb.path)).await {
            Ok(Ok(obj)) => return Ok(rb.judge(obj.as_ref())),
            Ok(Err(e)) => last = innermost(&e),
            Err(_) => last = format!("no answer within {}", human(policy.attempt_timeout)),
        }
        if attempt < attempts {
            tracing::warn!(
                "cannot read {} back ({last}); trying again in {} ({attempt} of {attempts} attempts made)",
                rb.object,
                human(pause)
            );
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
        }
    }
    Err(format!(
        "{attempts} attempt{}, the last: {last}",
        if attempts == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rb(expect: Expect) -> ReadBack {
        ReadBack {
            object: "deployment/web".into(),
            path: "/x".into(),
            expect,
            message: "done".into(),
        }
    }

    #[test]
    fn fields_compare_with_api_defaults() {
        let scale = rb(Expect::Fields(vec![("/spec/replicas".into(), json!(4))]));
        assert_eq!(
            scale.judge(Some(&json!({"spec": {"replicas": 4}}))),
            Seen::Done("spec.replicas is 4".into())
        );
        assert_eq!(
            scale.judge(Some(&json!({"spec": {"replicas": 2}}))),
            Seen::NotDone("spec.replicas is 2".into())
        );
        assert!(matches!(scale.judge(None), Seen::NotDone(s) if s.contains("does not exist")));
        // Uncordon drops the field; resume may leave `paused: false`.
        let off = rb(Expect::Fields(vec![(
            "/spec/unschedulable".into(),
            json!(false),
        )]));
        assert!(matches!(
            off.judge(Some(&json!({"spec": {}}))),
            Seen::Done(_)
        ));
        assert!(matches!(
            off.judge(Some(&json!({"spec": {"unschedulable": false}}))),
            Seen::Done(_)
        ));
        assert!(matches!(
            off.judge(Some(&json!({"spec": {"unschedulable": true}}))),
            Seen::NotDone(_)
        ));
        let removed = rb(Expect::Fields(vec![(
            annotation("/metadata", "example.com/why"),
            Value::Null,
        )]));
        assert!(matches!(
            removed.judge(Some(&json!({"metadata": {"annotations": {}}}))),
            Seen::Done(_)
        ));
        assert_eq!(
            removed.judge(Some(
                &json!({"metadata": {"annotations": {"example.com/why": "x"}}})
            )),
            Seen::NotDone("metadata.annotations.example.com/why is x".into())
        );
    }

    #[test]
    fn a_deleted_pod_is_gone_replaced_or_terminating() {
        let del = rb(Expect::Deleted { uid: "u1".into() });
        assert!(matches!(del.judge(None), Seen::Done(s) if s.contains("gone")));
        let terminating =
            json!({"metadata": {"uid": "u1", "deletionTimestamp": "2025-01-01T00:00:00Z"}});
        assert!(
            matches!(del.judge(Some(&terminating)), Seen::Done(s) if s.contains("being deleted"))
        );
        let replaced = json!({"metadata": {"uid": "u2"}});
        assert!(matches!(del.judge(Some(&replaced)), Seen::Done(s) if s.contains("replaced")));
        let still = json!({"metadata": {"uid": "u1"}});
        assert!(matches!(del.judge(Some(&still)), Seen::NotDone(_)));
        let no_uid = rb(Expect::Deleted { uid: String::new() });
        assert!(matches!(no_uid.judge(Some(&still)), Seen::NotDone(_)));
    }

    #[test]
    fn images_templates_and_existence() {
        let image = rb(Expect::Image {
            container: "web".into(),
            image: "web:2".into(),
        });
        let with = |i: &str| json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": i}]}}}});
        assert!(matches!(image.judge(Some(&with("web:2"))), Seen::Done(_)));
        assert_eq!(
            image.judge(Some(&with("web:1"))),
            Seen::NotDone("container web runs web:1".into())
        );
        let template = rb(Expect::Template(
            json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}),
        ));
        let hashed = json!({"spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {"containers": []}}}});
        assert!(matches!(template.judge(Some(&hashed)), Seen::Done(_)));
        let other = json!({"spec": {"template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": []}}}});
        assert!(matches!(template.judge(Some(&other)), Seen::NotDone(_)));
        let job = rb(Expect::Exists);
        assert!(matches!(job.judge(Some(&json!({}))), Seen::Done(_)));
        assert!(matches!(job.judge(None), Seen::NotDone(_)));
    }

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(
            serde_json::from_value(json!({
                "status": "Failure", "message": "boom", "reason": "X", "code": code
            }))
            .unwrap(),
        ))
    }

    #[test]
    fn only_answers_that_may_hide_a_change_are_lost() {
        assert!(answer_lost(&api_error(503)).is_some_and(|c| c.contains("HTTP 503 (boom)")));
        assert!(answer_lost(&api_error(500)).is_some());
        for definite in [400, 403, 404, 409, 422, 429] {
            assert_eq!(answer_lost(&api_error(definite)), None, "{definite}");
        }
        let reset = kube::Error::Service(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        assert!(answer_lost(&reset).is_some_and(|c| c.contains("answer was lost")));
        let refused = kube::Error::Service(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert_eq!(answer_lost(&refused), None, "nothing was sent");

        /// hyper-util's error while connecting, as it shows itself.
        #[derive(Debug)]
        struct Connecting(std::io::Error);
        impl std::fmt::Display for Connecting {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Connecting {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let connecting = kube::Error::Service(Box::new(Connecting(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        ))));
        assert_eq!(answer_lost(&connecting), None, "reset while connecting");
    }

    #[test]
    fn annotation_pointers_escape_slashes() {
        let p = annotation(
            "/spec/template/metadata",
            "kubectl.kubernetes.io/restartedAt",
        );
        assert_eq!(
            p,
            "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt"
        );
        assert_eq!(
            field_name(&p),
            "spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt"
        );
    }

    /// The executor against a scripted API server: what each request gets.
    mod through_the_executor {
        use std::sync::{Arc, Mutex};

        use serde_json::{Value, json};
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        use tokio::net::{TcpListener, TcpStream};

        use crate::actions::command::{Command, ObjectRef, WorkloadRef};
        use crate::actions::plan::Confirmation;
        use crate::actions::{ActionError, AuditLog, AuditResult, Executor, ReadBackPolicy};
        use crate::config::Config;

        /// What the scripted server does with one request.
        #[derive(Clone)]
        enum Reply {
            Json(u16, Value),
            /// Reads the request and closes the connection unanswered.
            Hangup,
        }

        type Script = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

        /// A one-request-per-connection HTTP server that answers as the
        /// script says and logs `METHOD path` of each request.
        async fn scripted(script: Script) -> (String, Arc<Mutex<Vec<String>>>) {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let log = Arc::new(Mutex::new(Vec::new()));
            let seen = log.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, script.clone(), seen.clone()));
                }
            });
            (url, log)
        }

        async fn serve(stream: TcpStream, script: Script, log: Arc<Mutex<Vec<String>>>) {
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            if reader.read_line(&mut head).await.unwrap_or(0) == 0 {
                return;
            }
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).await.unwrap();
            let mut parts = head.split_whitespace();
            let (method, path) = (parts.next().unwrap(), parts.next().unwrap());
            let path = path.split('?').next().unwrap_or_default();
            log.lock().unwrap().push(format!("{method} {path}"));
            match script(method, path) {
                Reply::Hangup => {}
                Reply::Json(code, value) => {
                    let body = value.to_string();
                    let answer = format!(
                        "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let mut stream = reader.into_inner();
                    stream.write_all(answer.as_bytes()).await.unwrap();
                    stream.shutdown().await.ok();
                }
            }
        }

        fn status(code: u16, message: &str) -> Reply {
            Reply::Json(
                code,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "message": message, "reason": "X", "code": code}),
            )
        }

        struct Rig {
            exec: Executor,
            requests: Arc<Mutex<Vec<String>>>,
            _dir: tempfile::TempDir,
        }

        async fn rig(url: &str, requests: Arc<Mutex<Vec<String>>>) -> Rig {
            let mut config = kube::Config::new(url.parse().unwrap());
            // As `connect` does: kubedeck reports what the server said.
            config.default_retry = false;
            let client = kube::Client::try_from(config).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let audit = AuditLog::new(dir.path().join("audit.jsonl"));
            let mut exec = Executor::new(client, "ctx", "admin", false, audit);
            exec.read_back = ReadBackPolicy {
                attempts: 3,
                pause: std::time::Duration::from_millis(10),
                attempt_timeout: std::time::Duration::from_secs(10),
            };
            Rig {
                exec,
                requests,
                _dir: dir,
            }
        }

        impl Rig {
            async fn run(&self, cmd: Command) -> Result<String, ActionError> {
                let confirmed = Confirmation::new(cmd, "ctx", &Config::default(), Vec::new())
                    .confirm(None)
                    .unwrap();
                self.exec.execute(confirmed).await.map(|a| a.message)
            }

            fn audited(&self) -> AuditResult {
                let log = self.exec.audit.read().unwrap();
                assert_eq!(log.records.len(), 1, "one record per action");
                log.records[0].result.clone()
            }

            fn requests(&self) -> Vec<String> {
                self.requests.lock().unwrap().clone()
            }
        }

        const WEB: &str = "/apis/apps/v1/namespaces/demo/deployments/web";

        fn scale() -> Command {
            Command::Scale {
                target: WorkloadRef::deployment("demo", "web"),
                from: 2,
                to: 3,
            }
        }

        /// Scaling whose answer is lost; the read back finds `replicas`.
        async fn scale_lost(replicas: i64, answer: Reply) -> Rig {
            let script: Script = Arc::new(move |method, path| match (method, path) {
                ("PATCH", p) if p == format!("{WEB}/scale") => answer.clone(),
                ("GET", WEB) => Reply::Json(200, json!({"spec": {"replicas": replicas}})),
                _ => status(404, "unexpected"),
            });
            let (url, log) = scripted(script).await;
            rig(&url, log).await
        }

        #[tokio::test]
        async fn a_lost_answer_read_back_as_made_is_done() {
            let rig = scale_lost(3, Reply::Hangup).await;
            let message = rig.run(scale()).await.unwrap();
            assert!(
                message.starts_with("deployment/web scaled to 3: confirmed by reading it back (spec.replicas is 3) after the API server's answer was lost"),
                "{message}"
            );
            assert_eq!(rig.audited(), AuditResult::Ok);
            assert_eq!(
                rig.requests(),
                [format!("PATCH {WEB}/scale"), format!("GET {WEB}")]
            );
        }

        #[tokio::test]
        async fn a_5xx_read_back_as_unmade_is_not_done() {
            let rig = scale_lost(2, status(503, "etcd is away")).await;
            let err = rig.run(scale()).await.unwrap_err();
            assert!(matches!(err, ActionError::NotDone { .. }), "{err:?}");
            assert_eq!(
                err.to_string(),
                "not done: the API server answered HTTP 503 (etcd is away), and reading deployment/web back shows the change was not made (spec.replicas is 2)"
            );
            assert!(
                matches!(rig.audited(), AuditResult::Failed { message } if message.starts_with("not done"))
            );
        }

        #[tokio::test]
        async fn a_lost_answer_that_cannot_be_read_back_is_unknown() {
            let script: Script = Arc::new(|_, _| Reply::Hangup);
            let (url, log) = scripted(script).await;
            let rig = rig(&url, log).await;
            let err = rig.run(scale()).await.unwrap_err();
            assert!(matches!(err, ActionError::OutcomeUnknown { .. }), "{err:?}");
            let text = err.to_string();
            assert!(
                text.starts_with("outcome unknown: the API server's answer was lost")
                    && text.contains("deployment/web could not be read back (3 attempts, the last: ")
                    && text.ends_with("the change may or may not have been made: check deployment/web before trying again"),
                "{text}"
            );
            assert!(ActionError::is_outcome_unknown_text(&text));
            assert!(matches!(rig.audited(), AuditResult::Unknown { message } if message == text));
            assert_eq!(
                rig.requests().len(),
                4,
                "the change, then 3 reads: {:?}",
                rig.requests()
            );
        }

        #[tokio::test]
        async fn a_definite_answer_is_not_read_back() {
            let rig = scale_lost(3, status(422, "replicas: Invalid value")).await;
            let err = rig.run(scale()).await.unwrap_err();
            assert_eq!(err, ActionError::Rejected("replicas: Invalid value".into()));
            assert_eq!(rig.requests(), [format!("PATCH {WEB}/scale")]);
        }

        #[tokio::test]
        async fn a_refused_connection_sent_nothing() {
            let closed = kubedeck_sim::testing::ClosedPort::new();
            let url = format!("http://127.0.0.1:{}", closed.port());
            let rig = rig(&url, Arc::default()).await;
            let err = rig.run(scale()).await.unwrap_err();
            assert!(matches!(err, ActionError::Api(_)), "no read back: {err:?}");
            assert!(matches!(rig.audited(), AuditResult::Failed { .. }));
        }

        #[tokio::test]
        async fn a_pod_deleted_with_its_answer_lost_is_read_back_by_uid() {
            const POD: &str = "/api/v1/namespaces/demo/pods/web-1";
            let deleted = Arc::new(Mutex::new(false));
            let flag = deleted.clone();
            let script: Script = Arc::new(move |method, path| match (method, path) {
                ("GET", POD) if *flag.lock().unwrap() => Reply::Json(
                    200,
                    json!({"metadata": {"name": "web-1", "uid": "u1",
                           "deletionTimestamp": "2025-01-01T00:00:00Z"}}),
                ),
                ("GET", POD) => {
                    Reply::Json(200, json!({"metadata": {"name": "web-1", "uid": "u1"}}))
                }
                ("DELETE", POD) => {
                    *flag.lock().unwrap() = true;
                    Reply::Hangup
                }
                _ => status(404, "unexpected"),
            });
            let (url, log) = scripted(script).await;
            let rig = rig(&url, log).await;
            let message = rig
                .run(Command::DeletePod {
                    pod: ObjectRef::new("demo", "web-1"),
                    grace_seconds: None,
                    force: false,
                })
                .await
                .unwrap();
            assert!(
                message.starts_with(
                    "pod/web-1 deleted: confirmed by reading it back (pod/web-1 is being deleted)"
                ),
                "{message}"
            );
            assert!(*deleted.lock().unwrap());
        }
    }
}
