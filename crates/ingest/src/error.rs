//! The ingest library's error type.
//!
//! Problems with *input* (a corrupt file, a record that is not CloudTrail) are not errors:
//! they are [`crate::InputIssue`]s, reported in the summary while the run goes on. An
//! [`Error`] means the run itself cannot go on (the dataset cannot be written, say).

use std::path::PathBuf;

/// What can stop an ingest or export run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory of the dataset could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Parquet encoding or decoding failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Building Arrow arrays failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The dataset's manifest is unreadable or inconsistent.
    #[error("dataset manifest {}: {message}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The dataset was written by a build with another schema version.
    #[error(
        "dataset {} has schema version {found}; this build reads version {expected} (re-ingest the trail into a new dataset)",
        path.display()
    )]
    SchemaVersion {
        /// The dataset directory.
        path: PathBuf,
        /// The version found in its manifest.
        found: u32,
        /// The version this build writes and reads.
        expected: u32,
    },
    /// Another process holds the dataset's lock.
    #[error("dataset {} is locked by another trailscope process", path.display())]
    Locked {
        /// The dataset directory.
        path: PathBuf,
    },
    /// An argument or configuration value is invalid.
    #[error("{0}")]
    Config(String),
    /// An object store (S3) request failed, or what it holds is not what was expected.
    #[error("{location}: {message}")]
    Remote {
        /// The URL involved.
        location: String,
        /// What went wrong.
        message: String,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The ingest library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
