#!/usr/bin/env bash
# Runs the whole StructMat.Bench suite (BenchmarkDotNet, about 10–15 minutes on 2 cores), then the report
# script, which rewrites the results section of docs/benchmarks.md and docs/benchmarks-speedup.svg.
# Usage: scripts/bench/run-all.sh [extra BenchmarkDotNet arguments, e.g. --iterationCount 10]
# Run it on an otherwise idle machine: other load shows up in every number, the OpenBLAS baseline's most.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0'; then
  echo "warning: libopenblas.so.0 not found (Debian: apt-get install libopenblas0-pthread);" >&2
  echo "         the baseline will be the generated dense layer, labelled as such." >&2
fi

rm -rf BenchmarkDotNet.Artifacts/results
rc=0
dotnet run -c Release --project bench/StructMat.Bench -- --filter '*' "$@" || rc=$?
# Report even after a failed benchmark: the report lists it under "Failed".
python3 scripts/bench/report.py
exit $rc
