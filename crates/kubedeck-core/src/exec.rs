//! Running a command in a container through the pods' `exec` subresource,
//! over WebSocket as kube-rs negotiates it (`v5.channel.k8s.io`, else v4).
//! Every exec passes one gate: refused in read-only mode, checked against
//! RBAC (`create pods/exec`) before the API server is asked, and audited
//! with the command, never with what the session carried.

use std::io::Write;
use std::time::{Duration, Instant};

use futures::{FutureExt as _, Stream, StreamExt as _};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams, AttachedProcess, TerminalSize};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};

use crate::actions::command::Access;
use crate::actions::{ActionError, AuditResult, Executor, Permission, Rbac, Record};

/// k9s's shell: bash where the image has it, else sh.
pub const DEFAULT_SHELL: &[&str] = &[
    "sh",
    "-c",
    "command -v bash >/dev/null && exec bash || exec sh",
];

/// The audit log's name for an exec.
pub const ACTION: &str = "exec";

/// One-shot output kept per stream; the rest is counted, not kept.
const CAPTURE_LIMIT: usize = 1024 * 1024;

/// A container to run in; no container means the pod's only (or default) one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub namespace: String,
    pub pod: String,
    pub container: Option<String>,
}

impl Target {
    pub fn new(namespace: &str, pod: &str, container: Option<&str>) -> Target {
        Target {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
            container: container.map(str::to_string),
        }
    }

    /// `pod/NAME`, as the audit log names objects.
    pub fn object(&self) -> String {
        format!("pod/{}", self.pod)
    }

    fn access(&self) -> Access {
        Access {
            verb: "create",
            group: "".into(),
            resource: "pods".into(),
            subresource: "exec",
            namespace: self.namespace.clone(),
            name: self.pod.clone(),
        }
    }
}

/// How a remote process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    /// The final status is a failure without an exit code: the kubelet
    /// could not run the command (kwok reports non-zero exits so too).
    Failed(String),
    /// No final status came: the connection dropped.
    Lost(String),
}

impl Ended {
    /// The code to exit with locally: the remote one, or 1 when unknown.
    pub fn code(&self) -> i32 {
        match self {
            Ended::Exited(c) => *c,
            Ended::Failed(_) | Ended::Lost(_) => 1,
        }
    }
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::Exited(c) => write!(f, "exit code {c}"),
            Ended::Failed(why) => write!(f, "failed: {why}"),
            Ended::Lost(why) if why.is_empty() => write!(f, "connection lost"),
            Ended::Lost(why) => write!(f, "connection lost: {why}"),
        }
    }
}

/// The ending the final status (channel 3) reports; None when it never came.
pub fn ended(status: Option<Status>) -> Ended {
    let Some(s) = status else {
        return Ended::Lost(String::new());
    };
    if s.status.as_deref() == Some("Success") {
        return Ended::Exited(0);
    }
    let code = (s.reason.as_deref() == Some("NonZeroExitCode"))
        .then(|| {
            s.details
                .as_ref()?
                .causes
                .as_ref()?
                .iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))?
                .message
                .as_deref()?
                .parse::<i32>()
                .ok()
        })
        .flatten();
    match code {
        Some(c) => Ended::Exited(c),
        None => Ended::Failed(s.message.unwrap_or_default()),
    }
}

/// Whether the process gets stdin and a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub stdin: bool,
    pub tty: bool,
}

impl Mode {
    /// A one-shot command: output only.
    pub const CAPTURE: Mode = Mode {
        stdin: false,
        tty: false,
    };
    /// A shell on a terminal.
    pub const SHELL: Mode = Mode {
        stdin: true,
        tty: true,
    };
}

/// Passes the gate and starts `command`; the attempt is audited whatever
/// happens, with the command but not the session.
pub async fn start(
    executor: &Executor,
    target: &Target,
    command: &[String],
    mode: Mode,
) -> Result<AttachedProcess, ActionError> {
    let started = Instant::now();
    let result = gate_and_open(executor, target, command, mode).await;
    let audit_result = AuditResult::of(&result);
    let record = Record {
        time: chrono::Utc::now(),
        user: executor.user.clone(),
        context: executor.context.clone(),
        namespace: target.namespace.clone(),
        object: target.object(),
        action: ACTION.to_string(),
        parameters: json!({
            "container": target.container,
            "command": command,
            "stdin": mode.stdin,
            "tty": mode.tty,
        }),
        before: String::new(),
        after: String::new(),
        result: audit_result,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let log = executor.audit.clone();
    let written = tokio::task::spawn_blocking(move || log.append(&record)).await;
    let problem = match written {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    };
    if let Some(p) = problem {
        let path = executor.audit.path().display().to_string();
        tracing::warn!("could not write the audit log {path}: {p}");
    }
    result
}

async fn gate_and_open(
    executor: &Executor,
    target: &Target,
    command: &[String],
    mode: Mode,
) -> Result<AttachedProcess, ActionError> {
    if let Some(refusal) = executor.refusal() {
        return Err(refusal);
    }
    if command.is_empty() {
        return Err(ActionError::Invalid("no command to run".into()));
    }
    // No record, no exec: the log must take the record first.
    executor.check_audit().await?;
    let access = target.access();
    // Asked afresh: a cached "yes" must not outlive a revoked role here.
    let rbac = Rbac::new(executor.client.clone(), Duration::ZERO);
    if let Permission::Denied(why) = rbac.can_access(&access).await {
        return Err(ActionError::Forbidden {
            what: access.describe(),
            message: why,
        });
    }
    let mut ap = AttachParams::default()
        .stdin(mode.stdin)
        .stdout(true)
        // A terminal merges stderr into stdout, and the API server refuses both.
        .stderr(!mode.tty)
        .tty(mode.tty);
    if let Some(c) = &target.container {
        ap = ap.container(c.clone());
    }
    let pods: Api<Pod> = Api::namespaced(executor.client.clone(), &target.namespace);
    pods.exec(&target.pod, command.to_vec(), &ap)
        .await
        .map_err(|e| ActionError::from_kube(e, &access))
}

/// What a one-shot command printed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Bytes not kept past [`CAPTURE_LIMIT`] per stream.
    pub dropped: usize,
    pub ended: Ended,
}

/// Runs `command` without a terminal and collects its output.
pub async fn run(
    executor: &Executor,
    target: &Target,
    command: &[String],
) -> Result<Captured, ActionError> {
    let process = start(executor, target, command, Mode::CAPTURE).await?;
    let (mut out, mut err) = (Capture::default(), Capture::default());
    let no_input: Option<tokio::io::Empty> = None;
    let ended = pump(
        process,
        no_input,
        &mut out,
        &mut err,
        futures::stream::empty(),
    )
    .await;
    Ok(Captured {
        stdout: out.kept,
        stderr: err.kept,
        dropped: out.dropped + err.dropped,
        ended,
    })
}

/// Output kept up to [`CAPTURE_LIMIT`], the rest counted.
#[derive(Default)]
struct Capture {
    kept: Vec<u8>,
    dropped: usize,
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = CAPTURE_LIMIT.saturating_sub(self.kept.len()).min(buf.len());
        self.kept.extend_from_slice(&buf[..room]);
        self.dropped += buf.len() - room;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Connects a started process to local input and output until it ends:
/// `input` to its stdin (its end closes stdin), its stdout and stderr to
/// the writers, and each size from `resizes` to its terminal.
pub async fn pump(
    mut process: AttachedProcess,
    input: Option<impl AsyncRead + Unpin>,
    stdout: &mut impl Write,
    stderr: &mut impl Write,
    resizes: impl Stream<Item = (u16, u16)> + Unpin,
) -> Ended {
    // Resolves with the final status, or None once kube-rs's task ended
    // without one: on a dropped connection it never closes the output
    // streams, so their end cannot be waited for.
    let mut status = match process.take_status() {
        Some(s) => s.boxed(),
        None => futures::future::ready(None).boxed(),
    };
    let mut final_status: Option<Option<Status>> = None;
    let mut remote_in = process.stdin();
    let mut remote_out = process.stdout();
    let mut remote_err = process.stderr();
    let mut sizes = process.terminal_size();
    let mut resizes = resizes.fuse();
    let mut input = input;
    let (mut out_buf, mut err_buf, mut in_buf) = ([0u8; 8192], [0u8; 8192], [0u8; 1024]);
    // Until the process's output ends: the status comes just before.
    while remote_out.is_some() || remote_err.is_some() {
        tokio::select! {
            n = read_some(&mut remote_out, &mut out_buf) => match n {
                Some(n) => {
                    let _ = stdout.write_all(&out_buf[..n]);
                    let _ = stdout.flush();
                }
                None => remote_out = None,
            },
            n = read_some(&mut remote_err, &mut err_buf) => match n {
                Some(n) => {
                    let _ = stderr.write_all(&err_buf[..n]);
                    let _ = stderr.flush();
                }
                None => remote_err = None,
            },
            n = read_some(&mut input, &mut in_buf), if input.is_some() && remote_in.is_some() => {
                let sent = match (n, remote_in.as_mut()) {
                    (Some(n), Some(w)) => w.write_all(&in_buf[..n]).await.is_ok(),
                    _ => false,
                };
                if !sent {
                    // The local input ended: so does the remote stdin. Only
                    // a shutdown says so; kube-rs's pipe ignores a drop.
                    input = None;
                    if let Some(mut w) = remote_in.take() {
                        let _ = w.shutdown().await;
                    }
                }
            },
            Some((width, height)) = resizes.next(), if sizes.is_some() => {
                if let Some(tx) = sizes.as_mut() {
                    use futures::SinkExt as _;
                    let _ = tx.send(TerminalSize { width, height }).await;
                }
            },
            s = &mut status, if final_status.is_none() => {
                let lost = s.is_none();
                final_status = Some(s);
                if lost {
                    // Nothing more can come: write what is buffered, stop.
                    drain_now(&mut remote_out, &mut out_buf, stdout);
                    drain_now(&mut remote_err, &mut err_buf, stderr);
                    break;
                }
                // With a status, kube-rs closes the streams right after.
            },
        }
    }
    let _ = stdout.flush();
    let status = match final_status {
        Some(s) => s,
        None => status.await,
    };
    let lost = process.join().await.err().map(|e| e.to_string());
    match (ended(status), lost) {
        (Ended::Lost(w), Some(e)) if w.is_empty() => Ended::Lost(e),
        (e, _) => e,
    }
}

/// Writes what `r` holds already, without waiting for more.
fn drain_now(r: &mut Option<impl AsyncRead + Unpin>, buf: &mut [u8], to: &mut impl Write) {
    if let Some(r) = r.as_mut() {
        while let Some(Ok(n @ 1..)) = r.read(buf).now_or_never() {
            let _ = to.write_all(&buf[..n]);
        }
    }
    let _ = to.flush();
}

/// The next chunk of `r`, None at its end (or when there is none).
async fn read_some(r: &mut Option<impl AsyncRead + Unpin>, buf: &mut [u8]) -> Option<usize> {
    match r {
        Some(r) => match r.read(buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(n),
        },
        None => std::future::pending().await,
    }
}

/// A writer that prints cluster output safely on a terminal: each line
/// without escape sequences or control characters (see [`crate::terminal::safe`]).
pub struct SafeLines<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> SafeLines<W> {
    pub fn new(inner: W) -> SafeLines<W> {
        SafeLines {
            inner,
            pending: Vec::new(),
        }
    }

    /// Writes what is left of an unfinished last line.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            self.inner
                .write_all(crate::terminal::safe(&text).as_bytes())?;
            self.pending.clear();
        }
        self.inner.flush()
    }
}

impl<W: Write> Write for SafeLines<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        // Whole lines only: an escape sequence split across writes is
        // still seen whole.
        if let Some(end) = self.pending.iter().rposition(|b| *b == b'\n') {
            let rest = self.pending.split_off(end + 1);
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            self.inner
                .write_all(crate::terminal::safe(&text).as_bytes())?;
            self.pending = rest;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

    #[test]
    fn statuses_become_exit_codes_or_a_lost_connection() {
        let ok = Status {
            status: Some("Success".into()),
            ..Status::default()
        };
        assert_eq!(ended(Some(ok)), Ended::Exited(0));
        let failed = Status {
            status: Some("Failure".into()),
            reason: Some("NonZeroExitCode".into()),
            details: Some(StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".into()),
                    message: Some("42".into()),
                    ..StatusCause::default()
                }]),
                ..StatusDetails::default()
            }),
            ..Status::default()
        };
        assert_eq!(ended(Some(failed)), Ended::Exited(42));
        assert_eq!(ended(None).to_string(), "connection lost");
        let other = Status {
            status: Some("Failure".into()),
            message: Some("container not found".into()),
            ..Status::default()
        };
        assert_eq!(
            ended(Some(other)).to_string(),
            "failed: container not found"
        );
    }

    #[test]
    fn the_shell_is_configurable_and_defaults_to_bash_else_sh() {
        use crate::config::Config;
        assert_eq!(Config::default().shell, DEFAULT_SHELL);
        let (c, err) = Config::from_text("config.toml", "shell = [\"bash\", \"-l\"]");
        assert!(err.is_none(), "{err:?}");
        assert_eq!(c.shell, ["bash", "-l"]);
        let (c, err) = Config::from_text("config.toml", "shell = []");
        let err = err.expect("an empty shell is refused").to_string();
        assert!(err.contains("shell must name a program"), "{err}");
        assert!(c.broken.is_some());
    }

    #[test]
    fn safe_lines_strip_escapes_even_split_across_writes() {
        let mut out = SafeLines::new(Vec::new());
        out.write_all(b"a\x1b]0;pw").unwrap();
        out.write_all(b"ned\x07b\nc").unwrap();
        out.finish().unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), "ab\nc");
    }
}
