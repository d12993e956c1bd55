#!/usr/bin/env bash
# Bounded smoke run of every cargo-fuzz target (nightly toolchain, for fuzzing only).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${XRDCT_FUZZ_SECONDS:-20}"
if ! cargo +nightly --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null 2>&1; then rustup toolchain install nightly --profile minimal >/dev/null; else echo "fuzz: no nightly toolchain"; exit 1; fi
fi
command -v cargo-fuzz >/dev/null 2>&1 || cargo install -q cargo-fuzz --locked
cd fuzz
for t in $(cargo +nightly fuzz list); do
  mkdir -p "corpus/$t"
  echo "fuzz: $t for ${secs}s"
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -n 3
done
