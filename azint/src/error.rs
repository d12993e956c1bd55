//! (in progress)

/// Errors of geometry, detector and engine set-up (filled in by the azint developers).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Placeholder until the real variants land.
    #[error("invalid input: {0}")]
    Invalid(&'static str),
}
