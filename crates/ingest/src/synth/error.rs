use std::path::PathBuf;

/// What can go wrong while generating a trail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The options are out of range.
    #[error("invalid options: {0}")]
    Options(String),
    /// The ground truth could not be serialized.
    #[error("cannot write the ground truth: {0}")]
    Truth(#[from] serde_json::Error),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The generator's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
