#!/usr/bin/env bash
# Set up (system packages, Rust), build the release binary and run `xrdct demo`.
# Extra arguments go to `xrdct demo` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q -p xrdct --bin xrdct
exec target/release/xrdct demo "$@"
