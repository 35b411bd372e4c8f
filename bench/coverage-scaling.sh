#!/usr/bin/env bash
# How the exact nearest-neighbour search of the coverage instrument grows with the traffic size and with the eval
# set's size (docs/performance.md#embedding-coverage): one process per size, so each peak working set is its own.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Recal.Benchmarks -c Release --nologo --verbosity quiet > /dev/null
bench() { dotnet bench/Recal.Benchmarks/bin/Release/net10.0/Recal.Benchmarks.dll coverage-search "$@"; }
echo "# traffic size, 5,000 cases"
for q in 25000 50000 100000 200000 400000; do bench "$q" 5000; done
echo "# eval-set size, 100,000 traffic vectors"
for c in 1250 2500 5000 10000 20000; do bench 100000 "$c"; done
