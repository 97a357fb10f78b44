#!/usr/bin/env bash
# Packs StructMat.Generator and checks the package layout, printing each check.
# The same checks as the Pack_puts_generator_compiler_and_antlr_in_analyzers_and_smx_glob_in_build
# test in tests/StructMat.Build.Tests, for a human at a shell. Usage: scripts/check-package.sh [-k]
#   -k  keep the temporary folder with the .nupkg (its path is printed)
set -euo pipefail

keep=0
if [[ "${1:-}" == "-k" ]]; then keep=1; fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v unzip >/dev/null || { echo "check-package: needs 'unzip' on PATH" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/structmat-check-package.XXXXXX")"
if [[ $keep -eq 0 ]]; then trap 'rm -rf "$tmp"' EXIT; fi

echo "== dotnet pack src/StructMat.Generator -c Release -o $tmp"
if ! dotnet pack "$root/src/StructMat.Generator" -c Release -o "$tmp" -nologo >"$tmp/pack.log" 2>&1; then
  cat "$tmp/pack.log"
  echo "FAIL: dotnet pack failed" >&2
  exit 1
fi

shopt -s nullglob
nupkgs=("$tmp"/StructMat.Generator.*.nupkg)
if [[ ${#nupkgs[@]} -ne 1 ]]; then
  echo "FAIL: expected one StructMat.Generator .nupkg in $tmp, found ${#nupkgs[@]}" >&2
  exit 1
fi
pkg="${nupkgs[0]}"
echo "== package: $pkg"

entries="$(unzip -Z1 "$pkg")"
echo "== contents:"
sed 's/^/     /' <<<"$entries"

failures=0
pass() { echo "  ok    $1"; }
fail() { echo "  FAIL  $1"; failures=$((failures + 1)); }

for f in analyzers/dotnet/cs/StructMat.Generator.dll \
         analyzers/dotnet/cs/StructMat.Compiler.dll \
         analyzers/dotnet/cs/Antlr4.Runtime.Standard.dll \
         build/StructMat.Generator.targets \
         build/StructMat.Generator.props; do
  if grep -qxF "$f" <<<"$entries"; then pass "has $f"; else fail "missing $f"; fi
done

if grep -q '^lib/' <<<"$entries"; then
  fail "has a lib/ folder (an analyzer package must not add compile references)"
else
  pass "no lib/ folder"
fi

if grep -qxF build/StructMat.Generator.targets <<<"$entries"; then
  targets="$(unzip -p "$pkg" build/StructMat.Generator.targets)"
  if grep -Eq '<AdditionalFiles[^>]*Include="([^"]*;)?\*\*/\*\.smx(;[^"]*)?"' <<<"$targets"; then
    pass 'build/StructMat.Generator.targets adds <AdditionalFiles Include="**/*.smx" />'
  else
    fail 'build/StructMat.Generator.targets lacks <AdditionalFiles Include="**/*.smx" />'
  fi
fi

nuspec="$(unzip -p "$pkg" StructMat.Generator.nuspec)"
if grep -q '<developmentDependency>true</developmentDependency>' <<<"$nuspec"; then
  pass "nuspec: developmentDependency is true"
else
  fail "nuspec: developmentDependency is not true"
fi

if [[ $keep -eq 1 ]]; then echo "== kept $tmp"; fi
if [[ $failures -gt 0 ]]; then
  echo "check-package: $failures check(s) failed"
  exit 1
fi
echo "check-package: all checks passed"
