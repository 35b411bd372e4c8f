#!/usr/bin/env python3
"""Writes hand-made Langfuse and LangSmith export fixtures following their published shapes:
  Langfuse public API (GET /api/public/traces → {"data": [...], "meta": {...}}, a trace with its observations and
  scores inline) and its blob export (JSONL of observations, and of scores);
  LangSmith runs as list_runs / the bulk export write them (JSONL, LangChain-serialised messages in an llm run's
  inputs, child_runs inline) and feedback as list_feedback writes it.
The same interactions appear in both tools' files, so tests can check they give the same stored traces.
Langfuse's blob export as CSV (traces, observations and scores files, snake_case columns, JSON-encoded objects,
times as "YYYY-MM-DD HH:MM:SS.ffffff" UTC) holds the same records, with malformed rows added by hand.
Run: python3 make_export_fixtures.py (deterministic)."""
import csv
import io
import json

def dump_lines(name, records):
    with open(name, "w") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")

# ---- Langfuse -------------------------------------------------------------------------------------------------
lf_traces = {"data": [
    {"id": "lf-trace-1", "timestamp": "2026-06-02T09:00:00.000Z", "name": "support-chat", "projectId": "proj-1",
     "input": [{"role": "system", "content": "You are the support assistant of Acme Bank."}, {"role": "user", "content": "How do I reset my card PIN?"}],
     "output": {"role": "assistant", "content": "Open the app, go to Cards and tap Reset PIN."},
     "sessionId": "sess-1", "release": "2026.06.1", "version": "v3", "userId": "u-1", "metadata": {"plan": "pro", "locale": "en-GB"},
     "tags": ["mobile"], "environment": "production", "public": False, "bookmarked": False,
     "observations": [{"id": "obs-1", "traceId": "lf-trace-1", "type": "GENERATION", "name": "chat", "startTime": "2026-06-02T09:00:00.100Z",
                       "endTime": "2026-06-02T09:00:01.200Z", "model": "gpt-4o-mini", "providedModelName": "gpt-4o-mini-2024-07-18",
                       "usageDetails": {"input": 31, "output": 17, "total": 48}}],
     "scores": [{"id": "sc-1", "traceId": "lf-trace-1", "name": "user_feedback", "value": 1, "dataType": "BOOLEAN", "source": "API"}],
     "htmlPath": "/project/proj-1/traces/lf-trace-1", "latency": 1.1, "totalCost": 0.0001},
    {"id": "lf-trace-2", "timestamp": "2026-06-02T09:05:00Z", "name": "support-chat", "projectId": "proj-1",
     "input": {"question": "Can I use my card abroad?"}, "output": None, "sessionId": None, "release": "2026.06.1",
     "metadata": {"plan": "free"}, "tags": [], "environment": "production", "observations": ["obs-2", "obs-3"], "scores": []},
    {"timestamp": "2026-06-02T09:06:00Z", "name": "no id", "input": "lost", "projectId": "proj-1"},
], "meta": {"page": 1, "limit": 50, "totalItems": 3, "totalPages": 1}}
with open("langfuse-traces.json", "w") as f:
    json.dump(lf_traces, f, indent=2)
    f.write("\n")

dump_lines("langfuse-observations.jsonl", [
    {"id": "obs-2", "traceId": "lf-trace-2", "type": "SPAN", "name": "retrieve", "startTime": "2026-06-02T09:05:00.050Z", "input": {"query": "card abroad"}},
    {"id": "obs-3", "traceId": "lf-trace-2", "type": "GENERATION", "name": "chat", "startTime": "2026-06-02T09:05:00.200Z",
     "model": "gpt-4o", "input": {"messages": [{"role": "system", "content": "You are a travel assistant."}, {"role": "user", "content": "Can I use my card abroad?"}]},
     "output": {"role": "assistant", "content": "Yes, in every country Visa is accepted."}, "usageDetails": {"input": 22, "output": 9},
     "parentObservationId": "obs-2", "level": "DEFAULT"},
])

dump_lines("langfuse-scores.jsonl", [
    {"id": "sc-2", "traceId": "lf-trace-2", "name": "csat", "value": 4, "dataType": "NUMERIC", "source": "API", "timestamp": "2026-06-02T12:00:00Z"},
    {"id": "sc-3", "traceId": "lf-trace-2", "name": "thumbs", "value": 0, "stringValue": "thumbs_down", "dataType": "CATEGORICAL", "source": "ANNOTATION"},
    {"id": "sc-4", "traceId": "lf-trace-1", "name": "escalated", "value": 1, "dataType": "BOOLEAN", "source": "API"},
    {"id": "sc-5", "traceId": "lf-trace-9", "name": "csat", "value": 2, "dataType": "NUMERIC", "source": "API"},
    {"id": "sc-6", "traceId": "lf-trace-1", "name": "csat", "value": 11, "dataType": "NUMERIC", "source": "API"},
    {"id": "sc-7", "traceId": "lf-trace-1", "name": "hallucination", "value": 0.1, "dataType": "NUMERIC", "source": "EVAL"},
])

# ---- LangSmith ------------------------------------------------------------------------------------------------
def lc(kind, content):
    return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", kind], "kwargs": {"content": content, "type": kind[:-7].lower() if kind.endswith("Message") else kind}}

dump_lines("langsmith-runs.jsonl", [
    {"id": "0190a1b2-0000-7000-8000-000000000001", "trace_id": "0190a1b2-0000-7000-8000-000000000001", "parent_run_id": None, "name": "SupportAgent",
     "run_type": "chain", "start_time": "2026-06-02T09:00:00.000000", "end_time": "2026-06-02T09:00:01.300000",
     "inputs": {"question": "How do I reset my card PIN?"}, "outputs": {"output": "Open the app, go to Cards and tap Reset PIN."},
     "extra": {"metadata": {"plan": "pro", "locale": "en-GB", "revision_id": "2026.06.1"}, "runtime": {"sdk": "langsmith-py"}},
     "tags": ["mobile"], "session_id": "6a3b8c0e-0000-4000-8000-00000000000a", "status": "success", "error": None,
     "dotted_order": "20260602T090000000000Z0190a1b2-0000-7000-8000-000000000001"},
    {"id": "0190a1b2-0000-7000-8000-000000000002", "trace_id": "0190a1b2-0000-7000-8000-000000000001", "parent_run_id": "0190a1b2-0000-7000-8000-000000000001",
     "name": "ChatOpenAI", "run_type": "llm", "start_time": "2026-06-02T09:00:00.100000", "end_time": "2026-06-02T09:00:01.200000",
     "inputs": {"messages": [[lc("SystemMessage", "You are the support assistant of Acme Bank."), lc("HumanMessage", "How do I reset my card PIN?")]]},
     "outputs": {"generations": [[{"text": "Open the app, go to Cards and tap Reset PIN.", "message": lc("AIMessage", "Open the app, go to Cards and tap Reset PIN.")}]],
                 "llm_output": {"model_name": "gpt-4o-mini-2024-07-18"}},
     "extra": {"invocation_params": {"model": "gpt-4o-mini-2024-07-18", "temperature": 0.2}, "metadata": {"ls_provider": "openai", "ls_model_name": "gpt-4o-mini"}},
     "prompt_tokens": 31, "completion_tokens": 17, "total_tokens": 48, "status": "success"},
    {"id": "0190a1b2-0000-7000-8000-000000000003", "trace_id": "0190a1b2-0000-7000-8000-000000000003", "parent_run_id": None, "name": "SupportAgent",
     "run_type": "chain", "start_time": "2026-06-02T09:05:00.000000",
     "inputs": {"messages": [{"role": "user", "content": "Can I use my card abroad?"}]}, "outputs": {"messages": [{"role": "assistant", "content": "Yes, in every country Visa is accepted."}]},
     "extra": {"metadata": {"plan": "free"}}, "tags": [],
     "child_runs": [{"id": "0190a1b2-0000-7000-8000-000000000004", "trace_id": "0190a1b2-0000-7000-8000-000000000003", "parent_run_id": "0190a1b2-0000-7000-8000-000000000003",
                     "run_type": "llm", "name": "ChatOpenAI", "start_time": "2026-06-02T09:05:00.200000", "inputs": {"messages": [{"role": "system", "content": "You are a travel assistant."}, {"role": "user", "content": "Can I use my card abroad?"}]},
                     "outputs": {"choices": [{"message": {"role": "assistant", "content": "Yes, in every country Visa is accepted."}}]},
                     "extra": {"invocation_params": {"model": "gpt-4o"}}}]},
    {"id": "0190a1b2-0000-7000-8000-000000000005", "trace_id": "0190a1b2-0000-7000-8000-000000000005", "run_type": "chain", "name": "Broken",
     "inputs": {"question": "no start time"}},
])

dump_lines("langsmith-feedback.jsonl", [
    {"id": "fb-1", "run_id": "0190a1b2-0000-7000-8000-000000000001", "key": "user_score", "score": 1, "comment": "helpful", "created_at": "2026-06-02T10:00:00Z"},
    {"id": "fb-2", "run_id": "0190a1b2-0000-7000-8000-000000000003", "trace_id": "0190a1b2-0000-7000-8000-000000000003", "key": "csat", "score": 4},
    {"id": "fb-3", "run_id": "0190a1b2-0000-7000-8000-000000000003", "key": "thumbs", "score": 0, "value": "thumbs_down"},
    {"id": "fb-4", "run_id": "0190a1b2-0000-7000-8000-000000000001", "key": "escalated", "score": True},
    {"id": "fb-5", "run_id": "0190a1b2-0000-7000-8000-000000000001", "key": "csat", "value": "very good"},
])

# ---- Langfuse blob export as CSV ------------------------------------------------------------------------------
def blob_time(iso):
    """2026-06-02T09:00:00.100Z -> 2026-06-02 09:00:00.100000, as the blob export writes times."""
    date, time = iso.rstrip("Z").split("T")
    whole, _, fraction = time.partition(".")
    return f"{date} {whole}.{(fraction + '000000')[:6]}"

def cell(value, pretty=False):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2 if pretty else None, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

def write_csv(name, columns, rows, extra_lines):
    """rows: dicts by column; extra_lines: (after_row_index, raw text) malformed lines written as they are."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for i, row in enumerate(rows):
        writer.writerow([row.get(c, "") for c in columns])
        for after, raw in extra_lines:
            if after == i:
                out.write(raw + "\n")
    with open(name, "w") as f:
        f.write(out.getvalue())

trace_columns = ["id", "timestamp", "name", "environment", "project_id", "metadata", "user_id", "session_id", "release", "version",
                 "public", "bookmarked", "tags", "input", "output", "created_at", "updated_at"]
def trace_row(t):
    return {"id": t["id"], "timestamp": blob_time(t["timestamp"]), "name": t.get("name"), "environment": t.get("environment"),
            "project_id": t.get("projectId"), "metadata": cell(t.get("metadata")), "user_id": cell(t.get("userId")),
            "session_id": cell(t.get("sessionId")), "release": cell(t.get("release")), "version": cell(t.get("version")),
            "public": cell(t.get("public", False)), "bookmarked": cell(t.get("bookmarked", False)), "tags": cell(t.get("tags", [])),
            # The first trace's input pretty-printed: a quoted field over several lines, as JSON with line breaks is.
            "input": cell(t.get("input"), pretty=t["id"] == "lf-trace-1"), "output": cell(t.get("output")),
            "created_at": blob_time(t["timestamp"]), "updated_at": blob_time(t["timestamp"])}
traces = [t for t in lf_traces["data"] if "id" in t]
write_csv("langfuse-traces.csv", trace_columns, [trace_row(t) for t in traces], [
    # After the first trace: a row whose quoted name never closes, and a row with too few fields.
    (0, 'lf-trace-q,2026-06-02 09:07:00.000000,"support-chat,production,proj-1,,u-3,,,,false,false,[],how do I close my account?,,,'),
    (0, "lf-trace-short,2026-06-02 09:08:00.000000,support-chat,production"),
])

observation_columns = ["id", "trace_id", "project_id", "environment", "type", "parent_observation_id", "start_time", "end_time", "name",
                       "metadata", "level", "status_message", "version", "input", "output", "provided_model_name", "internal_model_id",
                       "model_parameters", "usage_details", "cost_details", "completion_start_time", "prompt_id", "prompt_name", "prompt_version"]
observations = [o for t in traces for o in t.get("observations", []) if isinstance(o, dict)]
observations += [json.loads(line) for line in open("langfuse-observations.jsonl")]
def observation_row(o):
    return {"id": o["id"], "trace_id": o["traceId"], "project_id": "proj-1", "environment": "production", "type": o["type"],
            "parent_observation_id": o.get("parentObservationId", ""), "start_time": blob_time(o["startTime"]),
            "end_time": blob_time(o["endTime"]) if "endTime" in o else "", "name": o.get("name", ""), "metadata": "{}",
            "level": o.get("level", "DEFAULT"), "input": cell(o.get("input")), "output": cell(o.get("output")),
            "provided_model_name": o.get("providedModelName") or o.get("model", ""), "usage_details": cell(o.get("usageDetails")),
            "cost_details": "{}"}
write_csv("langfuse-observations.csv", observation_columns, [observation_row(o) for o in observations], [])

score_columns = ["id", "timestamp", "project_id", "environment", "trace_id", "observation_id", "name", "value", "source", "comment",
                 "data_type", "string_value"]
scores = [s for t in traces for s in t.get("scores", [])] + [json.loads(line) for line in open("langfuse-scores.jsonl")]
def score_row(sc):
    return {"id": sc["id"], "timestamp": blob_time(sc.get("timestamp", "2026-06-02T12:00:00Z")), "project_id": "proj-1",
            "environment": "production", "trace_id": sc["traceId"], "observation_id": sc.get("observationId", ""),
            "name": sc["name"], "value": cell(sc["value"]), "source": sc["source"], "comment": "",
            "data_type": sc["dataType"], "string_value": sc.get("stringValue", "")}
write_csv("langfuse-scores.csv", score_columns, [score_row(sc) for sc in scores], [
    # A csat score whose value is not a number.
    (1, "sc-8,2026-06-02 12:05:00.000000,proj-1,production,lf-trace-2,,csat,four,API,,NUMERIC,"),
])
