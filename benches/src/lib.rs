//! Shared helpers for the xrdct criterion benchmarks (see `benches/`).
