//! Why an action did not happen, in words the console can show as is.

use std::time::Duration;

use super::command::Access;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("refused: context {context} is read-only, so nothing was changed")]
    ReadOnly { context: String },
    #[error(
        "refused: this action was confirmed for context {confirmed}, but the console is on {current}"
    )]
    WrongContext { confirmed: String, current: String },
    /// Nothing may change at all, e.g. while config.toml is broken.
    #[error("refused: {0}; nothing was changed")]
    Blocked(String),
    /// The audit record could not be written, so the action did not run.
    #[error("refused: {0}, so the action was not run (fix the file or its folder)")]
    AuditUnavailable(String),
    #[error("invalid action: {0}")]
    Invalid(String),
    #[error("forbidden: you may not {what}; nothing was changed ({message})")]
    Forbidden { what: String, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    /// The cluster is not in the state the confirmation showed, or the
    /// action does not apply to it (e.g. rolling back a paused Deployment).
    #[error("{0}")]
    Precondition(String),
    #[error("conflict: the object kept changing; try again ({0})")]
    Conflict(String),
    /// An edit's object changed since it was read: the replace, sent with
    /// the resourceVersion read, was refused and overwrote nothing. Not
    /// retried: the edit must be made again on the new version.
    #[error(
        "conflict: {object} was changed by someone else since it was opened for editing; nothing was overwritten ({message})"
    )]
    Stale { object: String, message: String },
    /// The API server refused the change (422 invalid, 429 a PDB...).
    #[error("rejected by the API server: {0}")]
    Rejected(String),
    #[error("no answer from the API server within {0:?}; the change may or may not have been made")]
    Timeout(Duration),
    /// No answer in time, before the change was sent: nothing was changed.
    /// (The executor reads a change sent and unanswered back instead.)
    #[error(
        "no answer from the API server within {0:?}, before the change was sent; nothing was changed"
    )]
    TimeoutBeforeChange(Duration),
    /// The change was sent and its answer lost, and reading the object
    /// back showed that it was not made.
    #[error("not done: {cause}, and reading {object} back shows the change was not made ({seen})")]
    NotDone {
        object: String,
        cause: String,
        seen: String,
    },
    /// The change was sent and its answer lost, and the object could not be
    /// read back: the change may or may not have been made.
    #[error(
        "outcome unknown: {cause}, and {object} could not be read back ({read_error}); the change may or may not have been made: check {object} before trying again"
    )]
    OutcomeUnknown {
        object: String,
        cause: String,
        read_error: String,
    },
    #[error("API error: {0}")]
    Api(String),
}

impl ActionError {
    /// Maps a kube-rs error for an action needing `access`.
    pub(crate) fn from_kube(e: kube::Error, access: &Access) -> ActionError {
        match e {
            kube::Error::Api(status) => {
                let message = if status.message.is_empty() {
                    status.reason.clone()
                } else {
                    status.message.clone()
                };
                match status.code {
                    403 => ActionError::Forbidden {
                        what: access.describe(),
                        message,
                    },
                    404 => ActionError::NotFound(message),
                    409 if status.reason == "AlreadyExists" => ActionError::Rejected(message),
                    409 => ActionError::Conflict(message),
                    400 | 410 | 422 | 429 => ActionError::Rejected(message),
                    code => ActionError::Api(format!("{message} (HTTP {code})")),
                }
            }
            other => ActionError::Api(other.to_string()),
        }
    }

    pub(crate) fn is_conflict(&self) -> bool {
        matches!(self, ActionError::Conflict(_))
    }

    /// Whether `text` is an `OutcomeUnknown` error's, for callers that carry
    /// errors as text (runbook steps, a recovery test's kills).
    pub fn is_outcome_unknown_text(text: &str) -> bool {
        text.starts_with("outcome unknown: ")
    }
}
