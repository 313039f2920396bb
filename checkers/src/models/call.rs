//! A call as the search and the deciders see it: the model's op and its place in real time.

/// One call as the search sees it.
#[derive(Clone, Debug)]
pub struct SearchCall<O> {
    pub op: O,
    /// Position of the invocation in the history.
    pub invoke: u64,
    /// Position of the completion; `None` for an unknown outcome (may take effect any time, or never).
    pub complete: Option<u64>,
}
