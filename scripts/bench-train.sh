#!/usr/bin/env bash
# End-to-end timing of a 40-step fig1 training at N = 20, span engine vs dense engine.
#
# Usage: scripts/bench-train.sh [BOVIT_BINARY] [REPEATS]   (defaults: build/apps/bovit, 5)
# Prints the median wall time of each engine and the dense/span ratio. Uses hyperfine when it is
# installed (its JSON export gives the median), else bash timing of REPEATS runs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$here/build/apps/bovit}"
repeats="${2:-5}"
if [[ ! -x "$bin" ]]; then
  echo "bench-train: no bovit binary at $bin (build the bovit_cli target or pass its path)" >&2
  exit 2
fi
if ! [[ "$repeats" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-train: REPEATS must be a positive integer, got \"$repeats\"" >&2
  exit 2
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
args=(train --preset fig1 --set data.N=20 --set train.max_steps=40 --set train.stop_loss=0)

median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

declare -A med
for engine in span dense; do
  cmd=("$bin" "${args[@]}" --engine "$engine" --out "$out/$engine")
  if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$repeats" --export-json "$out/$engine.json" \
      "$(printf '%q ' "${cmd[@]}")" >&2
    med[$engine]=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' \
      "$out/$engine.json")
  else
    "${cmd[@]}" >/dev/null  # warm-up
    for ((r = 0; r < repeats; ++r)); do
      t0=$(date +%s.%N)
      "${cmd[@]}" >/dev/null
      t1=$(date +%s.%N)
      echo "$t1 - $t0" | bc -l
    done | median > "$out/$engine.t"
    med[$engine]=$(cat "$out/$engine.t")
  fi
done
printf 'fig1 N=20, 40 steps, median of %d runs\n' "$repeats"
printf '  span   %8.3f s\n  dense  %8.3f s\n  dense/span  %.1fx\n' "${med[span]}" "${med[dense]}" \
  "$(echo "${med[dense]} / ${med[span]}" | bc -l)"
