//! Store errors, classed by what a caller can do about them: not found (the object is
//! not there), transient (try again later: a timeout, a throttled or unavailable
//! service) or permanent (retrying will not help: corrupt request, out of space,
//! permission denied).

use std::path::PathBuf;

use super::kind::{ObjectId, ObjectKind};

/// How a caller should treat a store error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The object does not exist.
    NotFound,
    /// May succeed if tried again (the retry wrapper does).
    Transient,
    /// Will fail again.
    Permanent,
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ErrorClass::NotFound => "not found",
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        })
    }
}

/// Errors of a [`super::Store`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("no {kind} {id} in the store")]
    NotFound { kind: ObjectKind, id: ObjectId },
    #[error("I/O on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A ranged read asked for bytes past the end of the object.
    #[error("range {start}..{end} is past the end of {kind} {id} ({len} bytes)")]
    OutOfRange {
        kind: ObjectKind,
        id: ObjectId,
        start: u64,
        end: u64,
        len: u64,
    },
    /// A name that is not a valid [`ObjectId`].
    #[error("invalid object id {0:?}")]
    InvalidId(String),
    /// A writer used after it was finished or aborted.
    #[error("object writer already closed")]
    WriterClosed,
    /// Any other failure, with its class (remote stores, injected faults).
    #[error("store failure ({class}): {message}")]
    Failed { class: ErrorClass, message: String },
}

/// `Result` with a [`StoreError`].
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// What kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            StoreError::NotFound { .. } => ErrorClass::NotFound,
            StoreError::Io { source, .. } => io_class(source),
            StoreError::OutOfRange { .. } | StoreError::InvalidId(_) | StoreError::WriterClosed => {
                ErrorClass::Permanent
            }
            StoreError::Failed { class, .. } => *class,
        }
    }

    /// True when the failure may go away on its own.
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Transient
    }

    /// True when the object is not there.
    pub fn is_not_found(&self) -> bool {
        self.class() == ErrorClass::NotFound
    }

    /// A transient failure described by `message`.
    pub fn transient(message: impl Into<String>) -> Self {
        StoreError::Failed {
            class: ErrorClass::Transient,
            message: message.into(),
        }
    }

    /// A permanent failure described by `message`.
    pub fn permanent(message: impl Into<String>) -> Self {
        StoreError::Failed {
            class: ErrorClass::Permanent,
            message: message.into(),
        }
    }
}

/// Local I/O errors worth retrying: interrupted or timed-out calls. A full disk, a
/// permission problem or an I/O error of the device are permanent: retrying at once
/// would fail the same way.
fn io_class(e: &std::io::Error) -> ErrorClass {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => ErrorClass::NotFound,
        ErrorKind::Interrupted | ErrorKind::TimedOut | ErrorKind::WouldBlock => {
            ErrorClass::Transient
        }
        _ => ErrorClass::Permanent,
    }
}
