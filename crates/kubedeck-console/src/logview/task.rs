//! The runtime's side of the log view: a task reading a [`LogStream`] and
//! handing its lines to the UI loop in batches, and saving a buffer to a
//! file. Neither touches the state; both answer with messages.

use std::path::PathBuf;

use kube::Client;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::update::Msg;
use kubedeck_core::config::Paths;
use kubedeck_core::logs::{LogBuffer, LogLine, LogSource, StreamOptions, follow};

/// The most lines one batch carries, so that a flood still lets the UI
/// loop read keys between batches.
const MAX_BATCH: usize = 10_000;

/// One log stream being read. Dropping it stops the stream and every
/// request it made.
pub(crate) struct LogTask {
    stream: u64,
    rx: mpsc::Receiver<Vec<LogLine>>,
    task: JoinHandle<()>,
    done: bool,
}

impl LogTask {
    /// Must be called within a Tokio runtime.
    pub(crate) fn spawn(
        client: Client,
        stream: u64,
        target: LogSource,
        options: StreamOptions,
    ) -> LogTask {
        // Two batches in flight: while the UI loop is busy the task keeps
        // one ready and the stream's own bounded channel holds back the
        // rest, so a lagging screen slows reading instead of growing memory.
        let (tx, rx) = mpsc::channel(2);
        let task = tokio::spawn(async move {
            let mut logs = follow(client, target, options);
            while let Some(first) = logs.next_line().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match logs.try_next_line() {
                        Some(line) => batch.push(line),
                        None => break,
                    }
                }
                if tx.send(batch).await.is_err() {
                    break;
                }
            }
        });
        LogTask {
            stream,
            rx,
            task,
            done: false,
        }
    }

    /// Whether lines may still come; a stream fetched once ends.
    pub(crate) fn is_live(&self) -> bool {
        !self.done
    }

    /// Waits for lines, then takes every batch that is ready as one message.
    pub(crate) async fn next(&mut self) -> Option<Msg> {
        let Some(mut lines) = self.rx.recv().await else {
            self.done = true;
            return None;
        };
        while let Ok(more) = self.rx.try_recv() {
            lines.extend(more);
        }
        Some(Msg::LogLines {
            stream: self.stream,
            lines,
        })
    }
}

impl Drop for LogTask {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The next lines of the open log view's stream; pending forever without one.
pub(crate) async fn next(task: &mut Option<LogTask>) -> Option<Msg> {
    match task {
        Some(t) => t.next().await,
        None => std::future::pending().await,
    }
}

/// Where saved logs go: `<XDG data dir>/kubedeck/logs`.
pub(crate) fn logs_dir() -> PathBuf {
    Paths::discover().map_or_else(
        || std::env::temp_dir().join("kubedeck-logs"),
        |p| p.data_dir.join("logs"),
    )
}

/// Writes the buffer to `file_name` in [`logs_dir`] off the UI loop, and
/// says how it went.
pub(crate) async fn save(
    buffer: Box<LogBuffer>,
    file_name: String,
    timestamps: bool,
    filtered: bool,
) -> Msg {
    let result = tokio::task::spawn_blocking(move || {
        let dir = logs_dir();
        let path = dir.join(&file_name);
        std::fs::create_dir_all(&dir)
            .and_then(|()| buffer.save(&path, timestamps, filtered))
            .map(|n| format!("saved {n} lines to {}", path.display()))
            .map_err(|e| format!("cannot save the log to {}: {e}", path.display()))
    })
    .await
    .unwrap_or_else(|e| Err(format!("cannot save the log: {e}")));
    Msg::LogsSaved(result)
}
