#!/usr/bin/env bash
# Packs the StructMat package (src/StructMat.Runtime) and checks its layout and metadata, printing each check.
# The same checks as PackageTests.Pack_puts_runtime_in_lib_generator_in_analyzers_and_build_files_in_build in
# tests/StructMat.Build.Tests, for a human at a shell. Usage: scripts/check-package.sh [-k]
#   -k  keep the temporary folder with the .nupkg (its path is printed)
set -euo pipefail

keep=0
if [[ "${1:-}" == "-k" ]]; then keep=1; fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v unzip >/dev/null || { echo "check-package: needs 'unzip' on PATH" >&2; exit 2; }

# The one version (Directory.Build.props): the package must carry it.
version="$(sed -n 's:.*<StructMatVersion>\(.*\)</StructMatVersion>.*:\1:p' "$root/Directory.Build.props")"
[[ -n "$version" ]] || { echo "check-package: no <StructMatVersion> in $root/Directory.Build.props" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/structmat-check-package.XXXXXX")"
if [[ $keep -eq 0 ]]; then trap 'rm -rf "$tmp"' EXIT; fi

echo "== dotnet pack src/StructMat.Runtime -c Release -o $tmp"
if ! dotnet pack "$root/src/StructMat.Runtime" -c Release -o "$tmp" -nologo >"$tmp/pack.log" 2>&1; then
  cat "$tmp/pack.log"
  echo "FAIL: dotnet pack failed" >&2
  exit 1
fi

pkg="$tmp/StructMat.$version.nupkg"
if [[ ! -f "$pkg" ]]; then
  ls "$tmp"
  echo "FAIL: expected $pkg (version $version from Directory.Build.props)" >&2
  exit 1
fi
echo "== package: $pkg"

entries="$(unzip -Z1 "$pkg")"
echo "== contents:"
sed 's/^/     /' <<<"$entries"

failures=0
pass() { echo "  ok    $1"; }
fail() { echo "  FAIL  $1"; failures=$((failures + 1)); }

for f in lib/net10.0/StructMat.Runtime.dll \
         analyzers/dotnet/cs/StructMat.Generator.dll \
         analyzers/dotnet/cs/StructMat.Compiler.dll \
         analyzers/dotnet/cs/Antlr4.Runtime.Standard.dll \
         build/StructMat.props \
         build/StructMat.targets \
         PACKAGE.md; do
  if grep -qxF "$f" <<<"$entries"; then pass "has $f"; else fail "missing $f"; fi
done

# The generator side must never become a compile reference of the consumer.
if grep -E '^(lib|ref)/' <<<"$entries" | grep -Ev '^lib/net10\.0/StructMat\.Runtime\.(dll|xml)$' | grep -q .; then
  fail "lib/ or ref/ holds more than StructMat.Runtime: $(grep -E '^(lib|ref)/' <<<"$entries" | tr '\n' ' ')"
else
  pass "lib/ holds only StructMat.Runtime"
fi

if grep -qxF build/StructMat.targets <<<"$entries"; then
  targets="$(unzip -p "$pkg" build/StructMat.targets)"
  if grep -Eq '<AdditionalFiles[^>]*Include="([^"]*;)?\*\*/\*\.smx(;[^"]*)?"' <<<"$targets"; then
    pass 'build/StructMat.targets adds <AdditionalFiles Include="**/*.smx" />'
  else
    fail 'build/StructMat.targets lacks <AdditionalFiles Include="**/*.smx" />'
  fi
fi

nuspec="$(unzip -p "$pkg" StructMat.nuspec)"
check_nuspec() { # description, extended regex
  if grep -Eq "$2" <<<"$nuspec"; then pass "nuspec: $1"; else fail "nuspec: $1"; fi
}
check_nuspec "version is $version" "<version>${version//./\\.}</version>"
check_nuspec "has a description" '<description>[^<]+</description>'
check_nuspec "readme is PACKAGE.md" '<readme>PACKAGE\.md</readme>'
check_nuspec "licence expression MIT" '<license type="expression">MIT</license>'
check_nuspec "depends on ILGPU" '<dependency id="ILGPU"'
check_nuspec "depends on System.Numerics.Tensors" '<dependency id="System.Numerics.Tensors"'
if grep -q '<dependency id="StructMat\.' <<<"$nuspec"; then
  fail "nuspec: depends on a StructMat.* package (the generator and compiler are inside)"
else
  pass "nuspec: no StructMat.* dependency"
fi
if grep -q '<repository[^>]*url=' <<<"$nuspec"; then
  pass "nuspec: repository URL $(sed -n 's:.*<repository[^>]*url="\([^"]*\)".*:\1:p' <<<"$nuspec")"
else
  echo "  note  nuspec: no repository URL (set StructMatRepositoryUrl before publishing)"
fi

if [[ -f "$tmp/StructMat.$version.snupkg" ]]; then pass "symbols: StructMat.$version.snupkg"; else fail "no StructMat.$version.snupkg"; fi

if [[ $keep -eq 1 ]]; then echo "== kept $tmp"; fi
if [[ $failures -gt 0 ]]; then
  echo "check-package: $failures check(s) failed"
  exit 1
fi
echo "check-package: all checks passed"
