#!/bin/sh
# Regenerates tests/Recal.Core.Tests/Fixtures/Otel/meai-*.{pb,otlp} and otel-older.{pb,otlp} with the real OpenTelemetry .NET SDK exporter.
set -e
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../Recal.Core.Tests/Fixtures/Otel"
dotnet run --project "$here" -c Release -- "$out"
OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental dotnet run --project "$here" -c Release --no-build -- "$out"
dotnet run --project "$here" -c Release --no-build -- "$out" --older
