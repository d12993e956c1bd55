#!/usr/bin/env bash
# Bounded smoke run of every cargo-fuzz target (nightly toolchain, for fuzzing only).
# Each target reads its committed seeds (fuzz/seeds/<target>/, never written to) and its
# local corpus (fuzz/corpus/<target>/, ignored by git), where new finds go.
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
  dirs=("corpus/$t")
  if [ -d "seeds/$t" ]; then dirs+=("seeds/$t"); fi
  echo "fuzz: $t for ${secs}s (${dirs[*]})"
  cargo +nightly fuzz run "$t" "${dirs[@]}" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -n 3
done
