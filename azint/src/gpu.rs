//! GPU integration engines (in progress).
