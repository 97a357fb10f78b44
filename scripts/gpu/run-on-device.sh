#!/usr/bin/env bash
# Runs the GPU validation and benchmarks on a GPU machine that has no .NET (docs/gpu-benchmarks.md). The working
# directory is a copy of the repository with gpu-bundle/ carried along (made here by scripts/gpu/publish.sh):
#   device tool `run`: carry ["gpu-bundle"], command "bash scripts/gpu/run-on-device.sh", timeout_s 600
# Steps: unpack the runner into /tmp; StructMat.GpuRunner check; StructMat.GpuRunner bench; the PyTorch baseline
# (scripts/gpu/torch_baseline.py, which self-tests its bmm Monarch first); scripts/gpu/report.py. Every step runs
# even when an earlier one failed. Writes into OUTDIR (first argument; default $OUT, else gpu-results), at most
# 6 files: run.log, nvidia-smi.txt, structmat-gpu-check$TAG.json, structmat-gpu-bench$TAG.json,
# torch-baseline$TAG.json, gpu-benchmarks.md (docs/gpu-benchmarks.md with its results section rendered from OUTDIR).
# Environment (all optional):
#   STEPS            steps to run, default "check bench torch report"
#   TAG              suffix of the JSON file names, for a second call (report.py merges every file of a kind)
#   CHECK_ARGS, BENCH_ARGS, TORCH_ARGS   extra arguments, e.g. BENCH_ARGS="--sizes 8192 --structures dense,hra"
#   CHECK_TIMEOUT_S (120), BENCH_DEADLINE_S (270), TORCH_DEADLINE_S (100): time limits that keep the whole
#                    script under the tool's 600 s per command (120 + 270 + 30 + 100 + 30 s at most): a bench or
#                    torch case not started by its deadline is recorded as skipped, one still running 30 s after it
#                    is killed by `timeout`; a later call with TAG and a subset runs them
#   DRY_RUN=1        the same steps without a GPU, to test this script anywhere: the runner with --cpu (ILGPU's CPU
#                    accelerator, tiny shapes), the baseline with --cpu --tiny (needs torch)
# Exit status: 0 if every step passed, else 1. Only read-only nvidia-smi queries: the GPU's settings are left alone.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${1:-${OUT:-gpu-results}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
steps="${STEPS:-check bench torch report}"
dry=()
torch_dry=()
if [[ "${DRY_RUN:-0}" == 1 ]]; then dry=(--cpu); torch_dry=(--cpu --tiny); fi
tag="${TAG:-}"
bundle="$root/gpu-bundle"
archive="$bundle/structmat-gpurunner-linux-x64.tar.xz"
runner_dir=/tmp/structmat-gpurunner
runner="$runner_dir/StructMat.GpuRunner"
export PYTHONUNBUFFERED=1

started=$SECONDS
status=0
summary=()

note() { echo "[$((SECONDS - started)) s] $*"; }

# step NAME COMMAND...: runs it, records its exit status and time; never stops the script.
step() {
  local name="$1"; shift
  note "== $name: $*"
  local t0=$SECONDS rc=0
  "$@" || rc=$?
  summary+=("$(printf '%-8s exit %-3s %4s s' "$name" "$rc" "$((SECONDS - t0))")")
  if [[ $rc -ne 0 ]]; then status=1; fi
  return $rc
}

wants() { [[ " $steps " == *" $1 "* ]]; }

unpack() {
  if [[ ! -f "$archive" ]]; then
    echo "no $archive: run scripts/gpu/publish.sh on the development machine and carry gpu-bundle" >&2
    return 1
  fi
  cat "$bundle/BUNDLE.txt" 2>/dev/null
  local want got
  want="$(sed -n 's/^sha256: //p' "$bundle/BUNDLE.txt" 2>/dev/null)"
  got="$(sha256sum "$archive" | cut -d' ' -f1)"
  if [[ -n "$want" && "$want" != "$got" ]]; then
    echo "sha256 mismatch: BUNDLE.txt says $want, the archive is $got" >&2
    return 1
  fi
  rm -rf "$runner_dir" && mkdir -p "$runner_dir"
  if command -v xz >/dev/null; then
    tar xJf "$archive" -C "$runner_dir"
  else # no xz binary: Python's tarfile reads xz itself
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$runner_dir"
  fi
  local missing
  missing="$(ldd "$runner" 2>&1 | grep 'not found' || true)"
  if [[ -n "$missing" ]]; then echo "the runner misses libraries: $missing" >&2; return 1; fi
  "$runner" info "${dry[@]}"
}

report_step() { # renders into a copy of the page: the repository copy is left as it is
  cp docs/gpu-benchmarks.md "$out/gpu-benchmarks.md" && python3 scripts/gpu/report.py --results "$out" --markdown "$out/gpu-benchmarks.md"
}

main() {
  note "StructMat GPU run: steps '$steps', output $out, tag '${tag}'"
  {
    nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.sm,clocks.max.mem,pstate,temperature.gpu,power.draw,power.limit,memory.used,memory.total --format=csv
    echo
    nvidia-smi
  } >"$out/nvidia-smi.txt" 2>&1 || note "nvidia-smi failed (see nvidia-smi.txt)"
  head -n 2 "$out/nvidia-smi.txt"

  runner_steps=0
  if wants check || wants bench; then
    step unpack unpack && runner_steps=1
  fi
  if [[ $runner_steps -eq 1 ]] && wants check; then
    # shellcheck disable=SC2086 # CHECK_ARGS is a list of arguments
    step check timeout "${CHECK_TIMEOUT_S:-120}" "$runner" check "${dry[@]}" --out "$out/structmat-gpu-check$tag.json" ${CHECK_ARGS:-}
  fi
  if [[ $runner_steps -eq 1 ]] && wants bench; then
    deadline="${BENCH_DEADLINE_S:-270}"
    # shellcheck disable=SC2086
    step bench timeout "$((deadline + 30))" "$runner" bench "${dry[@]}" --deadline-s "$deadline" --out "$out/structmat-gpu-bench$tag.json" ${BENCH_ARGS:-}
  fi
  if wants torch; then
    deadline="${TORCH_DEADLINE_S:-100}"
    # shellcheck disable=SC2086
    step torch timeout "$((deadline + 30))" python3 scripts/gpu/torch_baseline.py "${torch_dry[@]}" --deadline-s "$deadline" --out "$out/torch-baseline$tag.json" ${TORCH_ARGS:-}
  fi
  if wants report; then
    step report report_step
  fi

  echo
  note "summary (exit status and seconds per step):"
  printf '  %s\n' "${summary[@]}"
  ls -la "$out"
  return $status
}

# A pipeline, not `exec > >(tee …)`: the script ends only after tee has written the last line.
main 2>&1 | tee -a "$out/run.log"
exit "${PIPESTATUS[0]}"
