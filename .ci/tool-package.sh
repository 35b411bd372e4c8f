#!/usr/bin/env bash
# Packs the recal tool for this machine's platform (ReadyToRun) and the portable fallback, installs it from the local
# packages into a temporary tool path as a user would (dotnet tool install --add-source), and runs the installed
# `recal --version`; then runs the portable package's recal.dll under `dotnet`. The full set of platform packages is
# `dotnet pack src/Recal.Cli -c Release` (docs/ci.md#the-tool-packages).
set -euo pipefail
cd "$(dirname "$0")/.."

rid=$(dotnet --info | awk '/^ *RID:/ { print $2; exit }')
case ";$(sed -n "s:.*<RuntimeIdentifiers>\(.*\)</RuntimeIdentifiers>.*:\1:p" src/Recal.Cli/Recal.Cli.csproj);" in
  *";$rid;"*) ;;
  *) echo "this machine's platform $rid has no tool package of its own; packing the portable one alone"; rid= ;;
esac
rids=${rid:+$rid;}any
work=$(mktemp -d /tmp/recal-tool-package.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet pack src/Recal.Cli -c Release -o "$work/packages" "-p:ToolPackageRuntimeIdentifiers=\"$rids\"" -nologo -v quiet
ls "$work/packages"
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
dotnet tool install Recal.Cli --version "$version" --tool-path "$work/tools" --add-source "$work/packages"
installed=$("$work/tools/recal" --version)
echo "installed recal --version: $installed"
case "$installed" in
  "$version"*) ;;
  *) echo "error: the installed tool says '$installed', not version $version" >&2; exit 1 ;;
esac
if [ -n "$rid" ]; then
  # The tool installed is the platform package's, precompiled (ReadyToRun), not the portable one.
  find "$work/tools/.store" -path "*recal.cli.$rid*" -name recal.dll | grep -q . || { echo "error: the tool installed is not the $rid package" >&2; exit 1; }
fi

# The portable fallback: what a platform without a package of its own installs.
mkdir "$work/any"
unzip -q "$work/packages/Recal.Cli.any.$version.nupkg" -d "$work/any"
portable=$(dotnet "$work/any/tools/net10.0/any/recal.dll" --version)
echo "portable recal.dll --version: $portable"
case "$portable" in
  "$version"*) ;;
  *) echo "error: the portable package says '$portable', not version $version" >&2; exit 1 ;;
esac
