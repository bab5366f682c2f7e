use std::path::PathBuf;

/// What can go wrong while generating a trail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid options: {0}")]
    Options(String),
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

/// The synth crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
