#!/usr/bin/env bash
# Publishes bench/StructMat.GpuRunner self-contained for linux-x64 (the GPU machines have no .NET) and packs it:
#   gpu-bundle/structmat-gpurunner-linux-x64.tar.xz   the runner, the .NET runtime, ILGPU (about 27 MB)
#   gpu-bundle/BUNDLE.txt                              commit, date, size and sha256 of the archive
# gpu-bundle/ is git-ignored; the device tool carries it (carry: ["gpu-bundle"]) and scripts/gpu/run-on-device.sh
# unpacks it there. Not trimmed: ILGPU reads kernel IL and its intrinsics through reflection, and the CUDA backend
# cannot be exercised here to prove a trimmed build safe. Before packing, the published binary must pass
# `--cpu check` at n = 64 on this machine. See docs/gpu-benchmarks.md.
# Usage: scripts/gpu/publish.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
stage="$root/artifacts/gpu-runner/publish" # artifacts/ is git-ignored and never carried (83 MB unpacked)
bundle="$root/gpu-bundle"
archive="$bundle/structmat-gpurunner-linux-x64.tar.xz"
limit_mib=48 # the device tool carries at most 64 MiB in all, the repository included

start=$SECONDS
rm -rf "$stage"
echo "== dotnet publish bench/StructMat.GpuRunner -c Release -r linux-x64 --self-contained"
dotnet publish bench/StructMat.GpuRunner/StructMat.GpuRunner.csproj -c Release -r linux-x64 --self-contained -o "$stage" -nologo
publish_s=$((SECONDS - start))

echo "== smoke test of the published binary: --cpu check at n = 64"
smoke_json="$(mktemp)"
"$stage/StructMat.GpuRunner" --cpu check --sizes 64 --out "$smoke_json" >/dev/null || {
  echo "the published runner failed its --cpu check (exit $?); not packing" >&2
  rm -f "$smoke_json"
  exit 1
}
rm -f "$smoke_json"

echo "== tar cJf gpu-bundle/$(basename "$archive")"
rm -rf "$bundle"
mkdir -p "$bundle"
pack_start=$SECONDS
tar cJf "$archive" -C "$stage" .
pack_s=$((SECONDS - pack_start))

bytes=$(stat -c %s "$archive")
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then commit="$commit (with uncommitted changes)"; fi
{
  echo "archive: $(basename "$archive")"
  echo "sha256: $(sha256sum "$archive" | cut -d' ' -f1)"
  echo "bytes: $bytes"
  echo "commit: $commit"
  echo "built_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "dotnet_sdk: $(dotnet --version)"
  echo "unpacked_bytes: $(du -sb "$stage" | cut -f1)"
} >"$bundle/BUNDLE.txt"

echo "bundle: $(realpath --relative-to="$root" "$archive") $mib MiB ($bytes bytes); publish ${publish_s} s, pack ${pack_s} s"
if (( bytes > limit_mib * 1048576 )); then
  echo "the bundle is over ${limit_mib} MiB: with the repository it may not fit the device tool's 64 MiB" >&2
  exit 1
fi
