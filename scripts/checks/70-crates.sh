#!/usr/bin/env bash
# The crates as others will use them: each library builds with no features, each feature
# alone and all of them; xrdct-pipeline without default features links neither libhdf5 nor
# wgpu nor the command line's crates; the docs build without warnings; every publishable
# crate packages (with a verifying build) with its README and both licence files.
set -euo pipefail
cd "$(dirname "$0")/../.."

features_of() {
  cargo metadata --no-deps --format-version 1 |
    python3 -c "import json,sys; p=[p for p in json.load(sys.stdin)['packages'] if p['name']=='$1'][0]; print(' '.join(f for f in p['features'] if f!='default'))"
}

for crate in cbf-format byteoffset azint xrdct-shaders xrdct-pipeline xrdct-bitshuffle; do
  echo "crates: $crate: no features, each feature, all features"
  cargo check -q -p "$crate" --lib --no-default-features
  for f in $(features_of "$crate"); do
    cargo check -q -p "$crate" --lib --no-default-features --features "$f"
  done
  cargo check -q -p "$crate" --lib --all-features
done

echo "crates: xrdct-pipeline --no-default-features links none of the heavy crates"
tree=$(cargo tree -q -p xrdct-pipeline --no-default-features -e normal --prefix none)
for heavy in hdf5 hdf5-metno hdf5-metno-sys wgpu clap indicatif png; do
  if grep -q "^$heavy v" <<<"$tree"; then
    echo "crates: xrdct-pipeline without default features depends on $heavy" >&2
    exit 1
  fi
done

echo "crates: rustdoc, warnings denied"
RUSTDOCFLAGS="-D warnings" cargo doc -q --workspace --all-features --no-deps

echo "crates: cargo package (verifying build)"
cargo package -q --workspace --exclude xrdct --exclude xrdct-benches --allow-dirty
for crate in cbf-format byteoffset azint xrdct-shaders xrdct-pipeline xrdct-bitshuffle; do
  files=$(cargo package -q -p "$crate" --list --allow-dirty)
  for f in README.md LICENSE-MIT LICENSE-APACHE; do
    grep -qx "$f" <<<"$files" || { echo "crates: $crate does not package $f" >&2; exit 1; }
  done
done
echo "crates: ok"
