//! GPU byte-offset decoder (in progress).
