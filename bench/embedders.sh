#!/usr/bin/env bash
# The built-in embedder against MiniLM (docs/performance.md#local-neural-embeddings, docs/embeddings.md): quality on
# CLINC150, HWU64 and MT-Bench; throughput and peak working set, one process per embedder and configuration; and
# `recal coverage` on the sample with each embedder, cold (no vector in the cache) and warm.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Recal.Benchmarks -c Release --nologo --verbosity quiet > /dev/null
dotnet build src/Recal.Cli -c Release --nologo --verbosity quiet > /dev/null
bench() { dotnet bench/Recal.Benchmarks/bin/Release/net10.0/Recal.Benchmarks.dll embedders "$@"; }
recal() { dotnet src/Recal.Cli/bin/Release/net10.0/recal.dll "$@"; }

echo "# quality"
bench "${PER_INTENT:-20}"
echo
echo "# throughput: CLINC150 test queries, median (min–max) of three rounds after a warm-up of 200 texts"
echo "| embedder (workers × threads) | texts | texts/s | warm-up (model load included) | peak working set | cores | load average |"
echo "|---|---|---|---|---|---|---|"
for name in builtin minilm minilm-1x2 minilm-1x1; do bench throughput "$name" "${TEXTS:-2000}"; done
echo
echo "# recal coverage on the sample (latest window), process start included"
project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT
cp -r samples/clinc150-support/. "$project"/
rm -rf "$project/.recal"
recal ingest --project "$project" "$project/traffic/traffic.jsonl.gz" > /dev/null
for embedder in builtin minilm; do
  for run in cold warm; do
    start=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$project/rss" dotnet src/Recal.Cli/bin/Release/net10.0/recal.dll coverage --project "$project" --embedder "$embedder" > "$project/out" 2> "$project/err"
    end=$(date +%s.%N)
    echo "| $embedder | $run | $(printf "%.1f" "$(echo "$end - $start" | bc)") s | $(( $(cat "$project/rss") / 1024 )) MiB | $(grep -o 'embeddings: .*cache' "$project/err") | $(grep -o 'Coverage: [0-9.]*%' "$project/out") | $(cut -d' ' -f1 /proc/loadavg) |"
  done
done
