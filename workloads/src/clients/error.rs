//! Why a client could not be made, or a server's reply could not be read.

/// A client's error: a reply it cannot read becomes an op's `info` or `fail` with these words.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The HTTP client could not be built.
    #[error("cannot build HTTP client: {0}")]
    Build(#[from] reqwest::Error),
    /// The server replied, but not in the shape this client reads; the words say what was wrong.
    #[error("{0}")]
    Reply(String),
}

impl From<String> for ClientError {
    fn from(why: String) -> Self {
        ClientError::Reply(why)
    }
}

impl From<&str> for ClientError {
    fn from(why: &str) -> Self {
        ClientError::Reply(why.to_string())
    }
}
