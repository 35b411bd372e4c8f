#!/usr/bin/env bash
# Recal's nearest-neighbour kernels against NumPy + OpenBLAS on the same search (docs/performance.md#embedding-coverage),
# back to back, in alternating rounds, best of each. NumPy runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for
# its command only, so OpenBLAS chooses its own kernel for this processor (a machine-wide OPENBLAS_CORETYPE=Haswell
# would hold it to AVX2); no ratio is printed when NumPy runs on the reference BLAS.
# Needs Debian's python3-numpy and libopenblas0-pthread (apt-get install python3-numpy libopenblas0-pthread).
# Usage: bash bench/coverage-vs-numpy.sh [queries] [cases] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
queries=${1:-100000} cases=${2:-5000} rounds=${3:-3}
dotnet build bench/Recal.Benchmarks -c Release --nologo --verbosity quiet > /dev/null
recal() { dotnet bench/Recal.Benchmarks/bin/Release/net10.0/Recal.Benchmarks.dll coverage-search "$queries" "$cases" 256 "$1"; }
numpy() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/coverage_numpy.py "$queries" "$cases" 256; }
gflops() { sed -n 's/.*gflops=\([0-9.]*\).*/\1/p'; }
best_numpy=0 best_512=0 best_avx2=0
for round in $(seq "$rounds"); do
  if ! line=$(numpy); then echo "no ratio: NumPy has no optimised BLAS here" >&2; exit 3; fi
  echo "round $round: $line"; best_numpy=$(printf '%s\n%s\n' "$best_numpy" "$(gflops <<< "$line")" | sort -g | tail -1)
  for kernel in avx512 avx2; do
    line=$(recal "$kernel" 2>&1) || { echo "round $round: kernel $kernel not supported here"; continue; }
    echo "round $round: $line"
    value=$(gflops <<< "$line")
    if [ "$kernel" = avx512 ]; then best_512=$(printf '%s\n%s\n' "$best_512" "$value" | sort -g | tail -1); else best_avx2=$(printf '%s\n%s\n' "$best_avx2" "$value" | sort -g | tail -1); fi
  done
done
awk -v n="$best_numpy" -v a="$best_512" -v b="$best_avx2" 'BEGIN {
  printf "best GFLOP/s: numpy %.1f, recal avx512 %.1f, recal avx2 %.1f\n", n, a, b;
  if (a > 0) printf "recal avx512 / numpy: %.2fx\n", a / n;
  printf "recal avx2 / numpy: %.2fx\n", b / n }'
