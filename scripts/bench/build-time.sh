#!/usr/bin/env bash
# Build time of a 20-layer StructMat consumer (issue 16, goal 7).
#
# Packs the StructMat package from this checkout into a temporary folder feed, creates a console project that
# references only that package and declares 20 layers (n = 1024 and 4096: the bench suite's 18 plus two LoRA
# adapters) in one layers.smx, and times, with the build servers warm:
#   clean      `dotnet build` after deleting bin/ and obj/ (restore done beforehand, not timed)
#   no-change  `dotnet build` again with nothing changed
#   one-layer  `dotnet build` after changing one layer's rank (alternating 64 <-> 48, so every try is an edit)
# each RUNS times (default 3), reporting every try and the median; then the generated C# (EmitCompilerGeneratedFiles):
# files, bytes, lines, bytes per layer. For scale, the same two rebuilds of a plain console app without StructMat
# (a one-line edit of Program.cs, and no change): what any edit costs here before a generator runs at all.
# Prints a Markdown table; with --json FILE also writes the figures as JSON.
#
# Usage: scripts/bench/build-time.sh [--runs N] [--json FILE] [--keep DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs=3
json=""
keep=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --json) json="$(realpath -m "$2")"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-time.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

work="${keep:-$(mktemp -d /tmp/structmat-buildtime.XXXXXX)}"
mkdir -p "$work"
[[ -z "$keep" ]] && trap 'rm -rf "$work"' EXIT
feed="$work/feed"
app="$work/app"
packages="$work/packages"   # a private NuGet cache, so the freshly packed StructMat is the one restored
mkdir -p "$feed" "$app"

version="$(sed -n 's:.*<StructMatVersion>\(.*\)</StructMatVersion>.*:\1:p' "$root/Directory.Build.props" | head -1)"
echo "packing StructMat $version from $root ..." >&2
dotnet pack "$root/src/StructMat.Runtime" -c Release -o "$feed" -v quiet -nologo >&2

cat > "$app/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="globalPackagesFolder" value="$packages" /></config>
  <packageSources>
    <add key="structmat" value="$feed" />
  </packageSources>
  <fallbackPackageFolders><add key="home" value="$HOME/.nuget/packages" /></fallbackPackageFolders>
</configuration>
EOF
# A consumer outside the repository: none of its Directory.Build.props / Directory.Packages.props apply.
cat > "$app/Directory.Build.props" <<'EOF'
<Project />
EOF
cat > "$app/Directory.Packages.props" <<'EOF'
<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>
EOF
cat > "$app/App.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
    <CompilerGeneratedFilesOutputPath>generated</CompilerGeneratedFilesOutputPath>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="StructMat" Version="$version" />
    <Compile Remove="generated/**" />
  </ItemGroup>
</Project>
EOF
cat > "$app/Program.cs" <<'EOF'
var layer = new BuildTime.Layers.LowRank1024();
var x = new float[layer.InFeatures];
var y = new float[layer.OutFeatures];
x[0] = 1;
layer.Forward(x, y, 1);
System.Console.WriteLine($"{layer.GetType().Name}: y[0] = {y[0]}");
EOF
write_layers() { # $1: the rank of LowRank1024 (the one layer the edit changes)
  cat > "$app/layers.smx" <<EOF
namespace BuildTime.Layers;

const n1 = 1024;
const n4 = 4096;

layer Dense1024 : n1 -> n1 = dense;
layer Dense4096 : n4 -> n4 = dense;
layer LowRank1024 : n1 -> n1 = lowrank(rank: $1);
layer LowRank4096 : n4 -> n4 = lowrank(rank: 64);
layer BlockDiag1024 : n1 -> n1 = blockdiag(blocks: 64);
layer BlockDiag4096 : n4 -> n4 = blockdiag(blocks: 64);
layer Monarch1024 : n1 -> n1 = monarch(blocks: 64);
layer Monarch4096 : n4 -> n4 = monarch(blocks: 64);
layer Btt1024 : n1 -> n1 = btt(rank: 2);
layer Btt4096 : n4 -> n4 = btt(rank: 2);
layer Kron1024 : n1 -> n1 = kron(dense(32 -> 32), dense(32 -> 32));
layer Kron4096 : n4 -> n4 = kron(dense(64 -> 64), dense(64 -> 64));
layer Hra1024 : n1 -> n1 = frozen dense * householder(reflections: 32);
layer Hra4096 : n4 -> n4 = frozen dense * householder(reflections: 32);
layer Pixelfly1024 : n1 -> n1 = blocksparse(block: 32, pattern: butterfly) + lowrank(rank: 32);
layer Pixelfly4096 : n4 -> n4 = blocksparse(block: 32, pattern: butterfly) + lowrank(rank: 32);
layer Butterfly1024 : n1 -> n1 = butterfly();
layer Butterfly4096 : n4 -> n4 = butterfly();
layer Lora1024 : n1 -> n1 = frozen dense + 2.0 * lowrank(rank: 16);
layer Lora4096 : n4 -> n4 = frozen dense + 2.0 * lowrank(rank: 16);
EOF
}
layers=20
write_layers 64

cd "$app"
echo "restoring ..." >&2
dotnet restore -v quiet -nologo >&2

seconds() { # runs `dotnet build`, prints its wall time in seconds; fails with the build's output on error
  local log start end
  log="$work/build.log"
  start=$(date +%s.%N)
  if ! dotnet build --no-restore -nologo -v quiet -clp:NoSummary > "$log" 2>&1; then
    cat "$log" >&2
    echo "build-time.sh: the consumer did not build" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.2f}')"
}

# One untimed build first, so the build servers (MSBuild node, VBCSCompiler) are warm for every timed try.
seconds > /dev/null
clean=(); nochange=(); onelayer=()
rank=64
for ((i = 0; i < runs; i++)); do
  rm -rf bin obj/Debug generated
  clean+=("$(seconds)")
  nochange+=("$(seconds)")
  if [[ $rank == 64 ]]; then rank=48; else rank=64; fi
  write_layers "$rank"
  onelayer+=("$(seconds)")
done
dotnet run --no-build > "$work/run.log" 2>&1 || { cat "$work/run.log" >&2; echo "build-time.sh: the consumer did not run" >&2; exit 1; }

# The floor: a console app with no StructMat, a one-line edit and a no-change rebuild, built the same way.
plain="$work/plain"
mkdir -p "$plain"
cp "$app/nuget.config" "$app/Directory.Build.props" "$app/Directory.Packages.props" "$plain/"
cat > "$plain/Plain.csproj" <<'EOF2'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
</Project>
EOF2
echo 'System.Console.WriteLine("plain");' > "$plain/Program.cs"
(cd "$plain" && dotnet restore -v quiet -nologo >&2 && dotnet build --no-restore -nologo -v quiet > /dev/null)
plain_edit=(); plain_nochange=()
for ((i = 0; i < runs; i++)); do
  echo "// edit $i" >> "$plain/Program.cs"
  plain_edit+=("$(cd "$plain" && seconds)")
  plain_nochange+=("$(cd "$plain" && seconds)")
done

gen_files=$(find generated -name '*.cs' | wc -l)
gen_bytes=$(find generated -name '*.cs' -print0 | xargs -0 cat | wc -c)
gen_lines=$(find generated -name '*.cs' -print0 | xargs -0 cat | wc -l)

python3 - "$layers" "$gen_files" "$gen_bytes" "$gen_lines" "$json" "${clean[*]}" "${nochange[*]}" "${onelayer[*]}" "${plain_edit[*]}" "${plain_nochange[*]}" "$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src || echo ' + uncommitted changes in src')" "$(cat "$work/run.log")" <<'PY'
import json, statistics, sys
layers, files, size, lines = (int(v) for v in sys.argv[1:5])
out = sys.argv[5]
clean, nochange, onelayer, plain_edit, plain_nochange = ([float(v) for v in s.split()] for s in sys.argv[6:11])
commit, ran = sys.argv[11], sys.argv[12]
med = statistics.median
print(f"StructMat build time, 20-layer consumer (commit {commit}; the consumer ran: {ran.strip()})")
print()
print("| build | median | tries |")
print("|---|---:|---|")
for name, xs in (("clean", clean), ("no-change rebuild", nochange), ("one layer's rank changed", onelayer),
                 ("plain console app (no StructMat): no-change rebuild", plain_nochange), ("plain console app: one-line edit", plain_edit)):
    print(f"| {name} | {med(xs):.2f} s | {', '.join(f'{x:.2f}' for x in xs)} |")
print()
print(f"one-layer edit / no-change rebuild: {med(onelayer) / med(nochange):.2f}x (goal: <= 1.5x); "
      f"the plain app's edit / no-change: {med(plain_edit) / med(plain_nochange):.2f}x")
print(f"generated C#: {files} files, {size:,} bytes, {lines:,} lines; {size / layers:,.0f} bytes and {lines / layers:,.0f} lines per layer")
if out:
    with open(out, "w") as f:
        json.dump({"commit": commit, "layers": layers, "clean_s": clean, "nochange_s": nochange, "onelayer_s": onelayer,
                   "plain_edit_s": plain_edit, "plain_nochange_s": plain_nochange,
                   "generated_files": files, "generated_bytes": size, "generated_lines": lines}, f, indent=2)
PY
