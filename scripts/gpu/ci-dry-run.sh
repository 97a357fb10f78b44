#!/usr/bin/env bash
# CI's part of the GPU work, without a GPU (seconds; docs/gpu-benchmarks.md, "In CI"):
#   the tests of report.py and of the PyTorch baseline's pure parts; the runner's dry run on ILGPU's CPU accelerator
#   (`--cpu check`, `--cpu bench` at n = 64) fed through report.py; `--cpu check` with an impossible tolerance must
#   fail (exit 1); the runner without --cpu must exit 3 with its reason where there is no CUDA device.
# Builds the runner in Release first: `dotnet test` builds only the test projects and what they reference.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
runner=(dotnet bench/StructMat.GpuRunner/bin/Release/net10.0/StructMat.GpuRunner.dll)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dotnet build -c Release bench/StructMat.GpuRunner --nologo -v q
python3 scripts/gpu/test_report.py
python3 scripts/gpu/test_torch_baseline.py
python3 -m py_compile scripts/gpu/torch_baseline.py scripts/gpu/report.py scripts/gpu/list_skipped.py
bash -n scripts/gpu/publish.sh scripts/gpu/run-on-device.sh

"${runner[@]}" --cpu check --out "$work/structmat-gpu-check.json"
"${runner[@]}" --cpu bench --sizes 64 --out "$work/structmat-gpu-bench.json" | tail -n 3
# The adapters run on request only (their own call on a GPU); check them here too.
"${runner[@]}" --cpu check --structures lora,oft,boft,loha,dora,qlora,int8lora --out "$work/adapters-check.json" | tail -n 2
cp docs/gpu-benchmarks.md "$work/page.md"
python3 scripts/gpu/report.py --results "$work" --markdown "$work/page.md"
grep -q "DRY RUN" "$work/page.md" || { echo "report.py did not flag the dry run" >&2; exit 1; }

rc=0
"${runner[@]}" --cpu check --sizes 64 --structures dense --tolerance 1e-12 --out "$work/fail.json" >/dev/null || rc=$?
if [[ $rc -ne 1 ]]; then echo "--cpu check with tolerance 1e-12 should fail with exit 1, got $rc" >&2; exit 1; fi
echo "ok: a check over its tolerance exits 1"

rc=0
"${runner[@]}" info || rc=$?
case $rc in
  3) echo "ok: without CUDA and without --cpu the runner exits 3 with its reason" ;;
  0) echo "ok: this machine has a CUDA accelerator" ;;
  *) echo "the runner's info exited $rc (expected 3 without CUDA, 0 with)" >&2; exit 1 ;;
esac
