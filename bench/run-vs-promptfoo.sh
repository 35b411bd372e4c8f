#!/usr/bin/env bash
# recal run and promptfoo 0.123.1 side by side: the same 2,000 cases, the same loopback endpoint with a fixed
# 200 ms latency, concurrency 64, no cache. Prints both wall times and their ratio. Options are passed on to the
# benchmark (--cases N, --latency-ms N, --concurrency N, --repeat N). promptfoo is installed from npm on first
# use (bench/promptfoo/run.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/bench/promptfoo/run.sh" --install
exec dotnet run -c Release --project "$root/bench/Recal.Benchmarks" -- run --promptfoo "$@"
