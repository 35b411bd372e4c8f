#!/usr/bin/env python3
"""Writes the hand-made OTLP/JSON fixtures, following the OTLP/JSON encoding (lowerCamelCase keys, 64-bit integers as
strings, hex ids; one id in base64 as some encoders write it) and the GenAI and OpenInference conventions as published.
  genai-conventions.jsonl  one TracesData / LogsData per line, the OpenTelemetry file exporter's form: every generation
                           of the GenAI conventions, broken records, an orphan span and late feedback
  genai-document.json      one TracesData document, pretty-printed over many lines
  openinference.jsonl      OpenInference (Arize Phoenix) spans: an agent, its LLM call, and an annotation span
Run: python3 make_spec_fixtures.py (deterministic)."""
import base64, json

T0 = 1780300800 * 10**9  # 2026-06-01T08:00:00Z in unix nanoseconds


def ns(seconds):
    return str(T0 + int(seconds * 10**9))


def s(v):
    return {"stringValue": v}


def kv(key, value):
    if isinstance(value, bool):
        v = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, dict) and len(value) == 1 and list(value)[0].endswith("Value"):
        v = value
    else:
        v = s(value)
    return {"key": key, "value": v}


def kvlist(d):
    return {"kvlistValue": {"values": [kv(k, v) for k, v in d.items()]}}


def array(items):
    return {"arrayValue": {"values": items}}


RESOURCE = {"attributes": [kv("service.name", "support-bot"), kv("service.version", "2026.06.1"),
                           kv("deployment.environment.name", "production"), kv("telemetry.sdk.language", "python")]}


def traces(*spans, resource=RESOURCE, scope="opentelemetry.instrumentation.openai_v2"):
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": {"name": scope}, "spans": list(spans)}]}]}


def logs(*records):
    return {"resourceLogs": [{"resource": RESOURCE, "scopeLogs": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2"}, "logRecords": list(records)}]}]}


def span(trace, span_id, name, start, end, attributes, parent=None, events=(), links=(), kind=3):
    out = {"traceId": trace, "spanId": span_id, "name": name, "kind": kind,
           "startTimeUnixNano": ns(start), "endTimeUnixNano": ns(end), "attributes": attributes, "status": {}}
    if parent:
        out["parentSpanId"] = parent
    if events:
        out["events"] = list(events)
    if links:
        out["links"] = list(links)
    return out


def tid(n):
    return "%032x" % (0x5b8efff798038103d269b633813fc600 + n)


def sid(n):
    return "%016x" % (0xeee19b7ec3c1b100 + n)


lines = []

# 1. Latest conventions: structured gen_ai.input.messages (AnyValue list of key-value lists), system instructions and
#    output as JSON text, inside an HTTP server root span; an evaluation event with user feedback.
input_messages = array([kvlist({"role": "user", "parts": array([kvlist({"type": "text", "content": "How do I reset my card PIN?"})])})])
lines.append(traces(
    span(tid(1), sid(1), "POST /chat", 0, 2.5, [kv("http.request.method", "POST"), kv("app.plan", "pro"), kv("app.locale", "en-GB")], kind=2),
    span(tid(1), sid(2), "chat gpt-4o-mini", 0.1, 2.4, [
        kv("gen_ai.operation.name", "chat"), kv("gen_ai.provider.name", "openai"), kv("gen_ai.request.model", "gpt-4o-mini"),
        kv("gen_ai.response.model", "gpt-4o-mini-2024-07-18"), kv("gen_ai.response.id", "chatcmpl-1"),
        kv("gen_ai.usage.input_tokens", 31), kv("gen_ai.usage.output_tokens", 17),
        kv("gen_ai.system_instructions", json.dumps([{"type": "text", "content": "You are the support assistant of Acme Bank."}])),
        {"key": "gen_ai.input.messages", "value": input_messages},
        kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Open the app, go to Cards and tap Reset PIN."}], "finish_reason": "stop"}])),
    ], parent=sid(1), events=[{"timeUnixNano": ns(30), "name": "gen_ai.evaluation.result", "attributes": [
        kv("gen_ai.evaluation.name", "user_feedback"), kv("gen_ai.evaluation.score.value", 1.0), kv("gen_ai.evaluation.score.label", "thumbs_up")]}])))

# 2. v1.36 conventions: the chat span carries no content; the messages are log events of it (next line).
lines.append(traces(span(tid(2), sid(3), "chat gpt-4o", 60, 62, [
    kv("gen_ai.operation.name", "chat"), kv("gen_ai.system", "openai"), kv("gen_ai.request.model", "gpt-4o"),
    kv("gen_ai.usage.input_tokens", 22), kv("gen_ai.usage.output_tokens", 9)])))

# 3. ... the log events: gen_ai.system.message, gen_ai.user.message and gen_ai.choice, bodies as key-value lists.
lines.append(logs(
    {"timeUnixNano": ns(60), "eventName": "gen_ai.system.message", "traceId": tid(2), "spanId": sid(3),
     "attributes": [kv("gen_ai.system", "openai")], "body": kvlist({"content": "You are a travel assistant."})},
    {"timeUnixNano": ns(60), "eventName": "gen_ai.user.message", "traceId": tid(2), "spanId": sid(3),
     "attributes": [kv("gen_ai.system", "openai")], "body": kvlist({"content": "Can I use my card abroad?"})},
    {"timeUnixNano": ns(62), "traceId": tid(2), "spanId": sid(3),
     "attributes": [kv("event.name", "gen_ai.choice"), kv("gen_ai.system", "openai")],
     "body": kvlist({"index": 0, "finish_reason": "stop", "message": kvlist({"role": "assistant", "content": "Yes, in every country Visa is accepted."})})}))

# 4. v1.26 conventions: gen_ai.content.prompt / completion span events with the messages as JSON text; old usage names;
#    the ids written in base64, as protobuf's generic JSON mapping does.
b64 = lambda h: base64.b64encode(bytes.fromhex(h)).decode()
lines.append(traces(span(b64(tid(4)), b64(sid(4)), "chat gpt-3.5-turbo", 120, 121, [
    kv("gen_ai.system", "openai"), kv("gen_ai.request.model", "gpt-3.5-turbo"), kv("gen_ai.response.model", "gpt-3.5-turbo-0125"),
    kv("gen_ai.usage.prompt_tokens", 12), kv("gen_ai.usage.completion_tokens", 8)], events=[
    {"timeUnixNano": ns(120), "name": "gen_ai.content.prompt", "attributes": [kv("gen_ai.prompt", json.dumps([{"role": "user", "content": "What is the cash withdrawal fee?"}]))]},
    {"timeUnixNano": ns(121), "name": "gen_ai.content.completion", "attributes": [kv("gen_ai.completion", json.dumps([{"role": "assistant", "content": "Withdrawals are free up to 200 EUR a month."}]))]}])))

# 5. Flattened attributes (gen_ai.prompt.{i}.role|content), as OpenLLMetry writes them.
lines.append(traces(span(tid(5), sid(5), "openai.chat", 180, 181, [
    kv("gen_ai.system", "openai"), kv("gen_ai.request.model", "gpt-4o-mini"), kv("llm.request.type", "chat"),
    kv("gen_ai.prompt.0.role", "system"), kv("gen_ai.prompt.0.content", "Answer briefly."),
    kv("gen_ai.prompt.1.role", "user"), kv("gen_ai.prompt.1.content", "Close my account"),
    kv("gen_ai.completion.0.role", "assistant"), kv("gen_ai.completion.0.content", "I can help: which account?")])))

# 6. Broken records beside a good one: a span without a traceId, a span whose intValue is not an integer.
lines.append(traces(
    {"spanId": sid(6), "name": "chat", "startTimeUnixNano": ns(240), "attributes": [kv("gen_ai.operation.name", "chat")]},
    span(tid(7), sid(7), "chat", 240, 241, [kv("gen_ai.operation.name", "chat"), {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "many"}}]),
    span(tid(8), sid(8), "chat gpt-4o-mini", 240, 241, [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o-mini"),
        kv("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Is there a branch in Leeds?"}]}])),
        kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Yes, on Park Row."}]}]))])))

# 7. Not JSON at all.
lines.append("{\"resourceSpans\": [ this is not json")

# 8. An orphan: a chat span whose parent never arrives, in a trace whose root never does.
lines.append(traces(span(tid(9), sid(9), "chat gpt-4o-mini", 300, 301, [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o-mini"),
    kv("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Freeze my card"}]}])),
    kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Your card is frozen."}]}]))], parent=sid(99))))

# 9. The latest conventions' log event gen_ai.client.inference.operation.details, with tool calls, for a span not in the file.
lines.append(logs({"timeUnixNano": ns(360), "eventName": "gen_ai.client.inference.operation.details", "traceId": tid(10), "spanId": sid(10), "attributes": [
    kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o-mini"), kv("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
    {"key": "gen_ai.input.messages", "value": array([
        kvlist({"role": "user", "parts": array([kvlist({"type": "text", "content": "What's my savings balance?"})])}),
        kvlist({"role": "assistant", "parts": array([kvlist({"type": "tool_call", "id": "call_1", "name": "get_balance", "arguments": kvlist({"account": "savings"})})])}),
        kvlist({"role": "tool", "parts": array([kvlist({"type": "tool_call_response", "id": "call_1", "response": "1,234.56 EUR"})])})])},
    {"key": "gen_ai.output.messages", "value": array([kvlist({"role": "assistant", "parts": array([kvlist({"type": "text", "content": "You have 1,234.56 EUR in savings."})]), "finish_reason": "stop"})])}]}))

# 10. Feedback arriving later for line 1's trace: an evaluation event as a log record.
lines.append(logs({"timeUnixNano": ns(900), "eventName": "gen_ai.evaluation.result", "traceId": tid(1), "spanId": sid(2), "attributes": [
    kv("gen_ai.evaluation.name", "csat"), kv("gen_ai.evaluation.score.value", 4.0), kv("gen_ai.evaluation.explanation", "survey")]}))

with open("genai-conventions.jsonl", "w") as f:
    for line in lines:
        f.write((line if isinstance(line, str) else json.dumps(line, separators=(",", ":"))) + "\n")

with open("genai-document.json", "w") as f:
    json.dump(traces(
        span(tid(11), sid(11), "chat gpt-4o-mini", 400, 401, [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o-mini"),
            kv("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Order a new card"}]}])),
            kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Done: it arrives in 5 days."}]}]))]),
        span(tid(12), sid(12), "chat gpt-4o-mini", 460, 461, [kv("gen_ai.operation.name", "chat"), kv("gen_ai.request.model", "gpt-4o-mini"),
            kv("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Change my address"}]}])),
            kv("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Go to Profile, Address."}]}]))])), f, indent=2)
    f.write("\n")

# OpenInference: an AGENT root span with input.value / output.value, its LLM child with llm.input_messages, and an
# annotation span (another trace) linked to the agent span, carrying user feedback.
oi_resource = {"attributes": [kv("service.name", "support-agent"), kv("openinference.project.name", "support")]}
oi = [traces(
    span(tid(20), sid(20), "agent", 0, 3, [kv("openinference.span.kind", "AGENT"), kv("input.value", "I lost my card, what now?"),
        kv("input.mime_type", "text/plain"), kv("output.value", "I have blocked it; a new one is on its way."), kv("session.id", "sess-42"),
        kv("user.id", "u-7"), kv("metadata", json.dumps({"plan": "free", "locale": "de-DE"})), {"key": "tag.tags", "value": array([s("mobile")])}], kind=1),
    span(tid(20), sid(21), "ChatCompletion", 0.5, 2.5, [kv("openinference.span.kind", "LLM"), kv("llm.model_name", "gpt-4o-2024-08-06"),
        kv("llm.provider", "openai"), kv("llm.input_messages.0.message.role", "system"), kv("llm.input_messages.0.message.content", "You are a bank's agent."),
        kv("llm.input_messages.1.message.role", "user"), kv("llm.input_messages.1.message.contents.0.message_content.type", "text"),
        kv("llm.input_messages.1.message.contents.0.message_content.text", "I lost my card, what now?"),
        kv("llm.output_messages.0.message.role", "assistant"), kv("llm.output_messages.0.message.tool_calls.0.tool_call.function.name", "block_card"),
        kv("llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments", "{\"reason\": \"lost\"}"),
        kv("llm.token_count.prompt", 40), kv("llm.token_count.completion", 12), kv("llm.token_count.total", 52)], parent=sid(20), kind=1),
    resource=oi_resource, scope="openinference.instrumentation.openai"),
    traces(span(tid(21), sid(22), "feedback", 600, 600, [kv("annotations.0.annotation.name", "thumbs"), kv("annotations.0.annotation.label", "thumbs_down"),
        kv("annotations.1.annotation.name", "escalated"), kv("annotations.1.annotation.score", 1)], links=[{"traceId": tid(20), "spanId": sid(20)}], kind=1),
        resource=oi_resource, scope="phoenix.annotations")]
with open("openinference.jsonl", "w") as f:
    for line in oi:
        f.write(json.dumps(line, separators=(",", ":")) + "\n")
