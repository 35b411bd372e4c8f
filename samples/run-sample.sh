#!/usr/bin/env bash
# Runs Recal's main job on the bundled CLINC150 sample with the embedded store: the eval set's gap to
# today's traffic (drift), then two versions of a support bot scored on it, side by side with the gap.
set -euo pipefail
cd "$(dirname "$0")/.."
project=samples/clinc150-support

echo "Building recal and the sample support bot (Release)..."
build_log=$(mktemp)
if ! { dotnet build src/Recal.Cli --configuration Release --nologo --verbosity quiet \
    && dotnet build samples/Recal.SampleBot --configuration Release --nologo --verbosity quiet; } > "$build_log" 2>&1; then
  cat "$build_log"
  exit 2
fi
rm -f "$build_log"
recal() { dotnet "src/Recal.Cli/bin/Release/net10.0/recal.dll" "$@"; }

echo "== recal validate"
recal validate --project "$project"
echo
echo "== recal policy"
recal policy --project "$project"
echo
echo "== recal ingest (twelve weeks of traffic, then a file with deliberately broken lines)"
recal ingest --project "$project" "$project/traffic/traffic.jsonl.gz"
recal ingest --project "$project" "$project/traffic/broken-sample.jsonl"
echo
echo "== recal drift --over weekly"
drift_status=0
recal drift --project "$project" --over weekly --json "$project/.recal/drift.json" --html "$project/.recal/drift.html" || drift_status=$?
if [ "$drift_status" -ne 0 ] && [ "$drift_status" -ne 1 ]; then
  exit "$drift_status"
fi
echo

echo "== recal status (the sample's clock is today; its traffic ends 2026-08-23, so refresh and rotation are overdue)"
recal status --project "$project" --rows 8 || true
echo
echo "== recal sample --pool shadow --dry-run (how a fresh shadow set would be drawn from the last four weeks)"
recal sample --project "$project" --pool shadow --size 200 --seed 1 --dry-run --rows 8
echo

# The system under test: the sample support bot as an OpenAI-compatible endpoint on 127.0.0.1.
port_file=$(mktemp -u)
dotnet samples/Recal.SampleBot/bin/Release/net10.0/Recal.SampleBot.dll --project "$project" --port-file "$port_file" > /dev/null &
bot_pid=$!
trap 'kill "$bot_pid" 2>/dev/null || true; wait "$bot_pid" 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 1 300); do
  [ -s "$port_file" ] && break
  kill -0 "$bot_pid" 2>/dev/null || { echo "the sample bot did not start" >&2; exit 2; }
  sleep 0.1
done
RECAL_SAMPLE_BOT_URL=$(cat "$port_file")
export RECAL_SAMPLE_BOT_URL
echo "The sample support bot is serving on $RECAL_SAMPLE_BOT_URL (pid $bot_pid)."
echo

# The holdout was sealed at the end of week 4 until a rotation later; the sample ships its demo key.
for target in baseline gold-tuned; do
  echo "== recal run --target $target --pool gold shadow holdout"
  recal run --project "$project" --target "$target" --pool gold shadow holdout --key-file "$project/sample-holdout.key"
  recal report --project "$project" --markdown "$project/.recal/report-$target.md" --html "$project/.recal/report-$target.html" > /dev/null
  echo
done

echo "== Score and gap, side by side"
for target in baseline gold-tuned; do
  run_id=$(recal report --project "$project" --list | awk -v t="$target" '$2 == t && !found { print $1; found = 1 }')
  recal report --project "$project" "$run_id" --brief
  echo
done
echo "The gold-tuned bot aces the gold set, but not the sealed holdout drawn from the same weeks, nor the"
echo "shadow set drawn from today's traffic; its traffic-weighted estimate, which weights every intent by"
echo "today's traffic, is lower than the baseline's: the gold score rose while users would get a worse bot."
echo
echo "== recal gate --baseline baseline --candidate gold-tuned (the upgrade decision by the policy's gates)"
recal gate --project "$project" --baseline baseline --candidate gold-tuned --junit "$project/.recal/gate.xml" --markdown "$project/.recal/gate.md" || true
recal diff --project "$project" baseline gold-tuned --html "$project/.recal/diff.html" --markdown "$project/.recal/diff.md" > /dev/null
echo "The case-by-case diff, flips with both answers and their evidence: $project/.recal/diff.html"
echo
echo "== recal coverage (how much of the last four weeks has an eval case nearby; built-in embedder)"
recal coverage --project "$project" --rows 6
echo "(recal sample --from-blind-spot N drafts one blind spot's traces for labelling)"
echo
echo "== recal drift --over weekly, again: the score and every gap over time on one page"
timeline_log=$(mktemp)
recal drift --project "$project" --over weekly --json "$project/.recal/timeline.json" --html "$project/.recal/timeline.html" > "$timeline_log" || true
# Whole sections only: the runs' and releases' tables, then the releases alarm up to the next alarm or line of its own.
sed -n '/The score over time/,/^Current window/p' "$timeline_log" | sed '$d'
awk '/^ALARM offline_online_releases/ { shown = 1; print; next } shown && /^(ALARM |JSON report|HTML report|$)/ { shown = 0 } shown' "$timeline_log"
rm -f "$timeline_log"
echo "One page with every series: $project/.recal/timeline.html"
echo
echo "== recal check (every instrument, in a few lines)"
recal check --project "$project" || true
echo
if [ "$drift_status" -eq 1 ]; then
  echo "recal drift exited with 1: an alarm fired for the current window, as the sample's traffic has drifted."
fi
exit 0
