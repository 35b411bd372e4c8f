using Recal.Domain;
using static Recal.Ingest.Otel.AttributeValues;

namespace Recal.Ingest.Otel;

/// <summary>Which spans make one Recal trace (docs/trace-format.md#which-spans-make-a-trace).</summary>
public enum InteractionRule
{
    /// <summary>One trace per OTel trace id: the input of its first root GenAI span, the answer of its last.</summary>
    Trace,

    /// <summary>One trace per GenAI span with content (keyed trace id and span id).</summary>
    Span,

    /// <summary>One trace per conversation (gen_ai.conversation.id, or OpenInference session.id): every turn's messages.</summary>
    Conversation,
}

/// <summary>How spans become traces.</summary>
public sealed record OtelMappingOptions(InteractionRule Interaction = InteractionRule.Trace, FeedbackMap? Feedback = null)
{
    public FeedbackMap FeedbackMap => Feedback ?? FeedbackMap.Default;
}

/// <summary>
/// Turns the spans (and GenAI log events) of one OTLP payload into trace parts by the interaction rule: the code a
/// file ingest and a live OTLP receiver share. Parts of one trace from different payloads are merged by the store.
/// </summary>
public static class OtelInteractions
{
    public static PayloadParts Build(OtlpPayload payload, OtelMappingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        options ??= new OtelMappingOptions();
        var result = new PayloadParts { Spans = payload.Spans.Count };
        foreach (var problem in payload.Problems)
        {
            result.Problems.Add(problem);
        }

        // Log records become events of the span they name; those whose span is elsewhere stand as event-only spans.
        var bySpan = payload.Spans.GroupBy(s => (s.TraceId, s.SpanId)).ToDictionary(g => g.Key, g => g.First());
        var extraEvents = new Dictionary<(string, string), List<OtelEvent>>();
        var detached = new Dictionary<(string, string), OtelSpan>();
        foreach (var log in payload.Logs)
        {
            if (log.TraceId is null)
            {
                result.Problems.Add(new PayloadProblem("RC2004", log.Place, $"log record '{log.EventName}' names no trace (traceId is empty), so it cannot be attached to an interaction"));
                continue;
            }

            var spanId = log.SpanId ?? "0000000000000000";
            var key = (log.TraceId, spanId);
            var e = new OtelEvent(log.EventName, log.TimeUnixNano, log.Attributes, log.Body);
            if (bySpan.ContainsKey(key) || detached.ContainsKey(key))
            {
                (extraEvents.TryGetValue(key, out var list) ? list : extraEvents[key] = []).Add(e);
            }
            else
            {
                detached[key] = new OtelSpan(log.TraceId, spanId, null, log.EventName, log.TimeUnixNano, log.TimeUnixNano, new Dictionary<string, object?>(), [], [], log.Resource, log.Place) { };
                extraEvents[key] = [e];
            }
        }

        var views = new List<SpanView>(payload.Spans.Count + detached.Count);
        foreach (var span in payload.Spans)
        {
            views.Add(View(span, extraEvents.GetValueOrDefault((span.TraceId, span.SpanId)), detachedEvents: false, options, result));
        }

        foreach (var (key, span) in detached)
        {
            views.Add(View(span, extraEvents[key], detachedEvents: true, options, result));
        }

        var interactions = new List<Interaction>();
        foreach (var trace in views.GroupBy(v => v.Span.TraceId))
        {
            BuildTrace(trace.Key, [.. trace], options, result, interactions);
        }

        if (options.Interaction == InteractionRule.Conversation)
        {
            Conversations(interactions, result);
        }
        else
        {
            foreach (var interaction in interactions)
            {
                result.Parts.Add(interaction.Part);
            }
        }

        return result;
    }

    private sealed record SpanView(OtelSpan Span, SpanContent Content, Feedback Feedback, IReadOnlyList<OtelLink> FeedbackLinks, bool Detached);

    private sealed record Interaction(TracePart Part, string? ConversationId, SpanContent First, SpanContent Last);

    private static SpanView View(OtelSpan span, List<OtelEvent>? logEvents, bool detachedEvents, OtelMappingOptions options, PayloadParts result)
    {
        var events = logEvents is null ? span.Events : [.. span.Events, .. logEvents];
        var content = GenAiContent.Read(span, events);
        var feedback = Feedback.None;
        var map = options.FeedbackMap;
        foreach (var e in events)
        {
            if (e.Name == "gen_ai.evaluation.result")
            {
                var attributes = Map(Structure(e.Body)) is { } body ? Merge(body, e.Attributes) : e.Attributes;
                var name = Get(attributes, "gen_ai.evaluation.name") ?? string.Empty;
                feedback = ApplyFeedback(map, feedback, name, attributes.GetValueOrDefault("gen_ai.evaluation.score.value"), Get(attributes, "gen_ai.evaluation.score.label"), span, result);
            }
        }

        foreach (var annotation in Indexed(span.Attributes, "annotations.").Values)
        {
            if (AsText(annotation.GetValueOrDefault("annotation.name")) is { } name)
            {
                feedback = ApplyFeedback(map, feedback, name, annotation.GetValueOrDefault("annotation.score"), AsText(annotation.GetValueOrDefault("annotation.label")), span, result);
            }
        }

        foreach (var (key, value) in span.Attributes)
        {
            if (!key.StartsWith("gen_ai.", StringComparison.Ordinal) && !GenAiContent.IsContentKey(key) && map.TryGet(key, out _))
            {
                feedback = ApplyFeedback(map, feedback, key, value, null, span, result);
            }
        }

        // A span that carries feedback but no content of its own and links elsewhere is feedback about the linked span.
        var links = feedback != Feedback.None && !content.HasInput && span.Links.Count > 0 ? span.Links : [];
        return new SpanView(span, content, feedback, links, detachedEvents);
    }

    private static Dictionary<string, object?> Merge(IReadOnlyDictionary<string, object?> first, IReadOnlyDictionary<string, object?> second)
    {
        var merged = new Dictionary<string, object?>(first, StringComparer.Ordinal);
        foreach (var (k, v) in second)
        {
            merged[k] = v;
        }

        return merged;
    }

    private static Feedback ApplyFeedback(FeedbackMap map, Feedback feedback, string name, object? value, string? label, OtelSpan span, PayloadParts result)
    {
        var applied = map.Apply(feedback, name, value, label, out var error);
        if (error is not null)
        {
            result.Problems.Add(new PayloadProblem("RC2003", span.Place, error));
        }

        return applied;
    }

    private static void BuildTrace(string traceId, List<SpanView> spans, OtelMappingOptions options, PayloadParts result, List<Interaction> interactions)
    {
        var byId = new Dictionary<string, SpanView>(StringComparer.Ordinal);
        foreach (var view in spans.Where(v => !v.Detached))
        {
            byId.TryAdd(view.Span.SpanId, view);
        }

        var orphanNoted = false;
        foreach (var view in spans.Where(v => !v.Detached))
        {
            if (view.Span.ParentSpanId is null)
            {
                result.Roots.Add(traceId);
            }
            else if (!byId.ContainsKey(view.Span.ParentSpanId) && !orphanNoted)
            {
                orphanNoted = true;
                result.Orphans.Add(new OrphanCandidate(traceId, view.Span.SpanId, view.Span.ParentSpanId, view.Span.Place));
            }
        }

        foreach (var view in spans)
        {
            foreach (var link in view.FeedbackLinks)
            {
                var target = options.Interaction == InteractionRule.Span ? link.TraceId + ":" + link.SpanId : link.TraceId;
                result.Parts.Add(TracePart.ForFeedback(target, view.Feedback, view.Span.Place));
            }
        }

        var genAi = spans.Where(v => v.Content.IsGenAi && v.FeedbackLinks.Count == 0).ToList();
        var traceFeedback = Combine(spans.Where(v => v.FeedbackLinks.Count == 0).Select(v => v.Feedback));
        result.SpansWithoutContent += genAi.Count(v => !v.Content.HasInput && !v.Content.HasOutput && !v.Detached && IsModelCall(v.Content));
        if (options.Interaction == InteractionRule.Span)
        {
            foreach (var view in genAi.Where(v => v.Content.HasInput))
            {
                var part = Make(traceId + ":" + view.Span.SpanId, [view], [view], [view], view.Feedback, byId, view.Span.Place);
                interactions.Add(new Interaction(part, view.Content.ConversationId, view.Content, view.Content));
            }

            return;
        }

        // The interaction is the outermost GenAI span(s): those with no GenAI ancestor in the payload.
        var roots = genAi.Where(v => !HasGenAiAncestor(v, byId)).OrderBy(v => v.Span.StartUnixNano).ToList();
        var withInput = roots.Where(v => v.Content.HasInput).ToList();
        if (withInput.Count == 0)
        {
            // An agent span without content of its own: its first model call says what was asked.
            withInput = [.. genAi.Where(v => v.Content.HasInput).OrderBy(v => v.Span.StartUnixNano).Take(1)];
        }

        if (withInput.Count == 0)
        {
            // No interaction here, but perhaps its root span (arriving after its GenAI spans) or its feedback.
            var rootSpans = spans.Where(v => !v.Detached && v.Span.ParentSpanId is null && v.FeedbackLinks.Count == 0).ToList();
            Dictionary<string, string>? metadata = null;
            if (options.Interaction == InteractionRule.Trace && rootSpans.Count > 0)
            {
                metadata = new Dictionary<string, string>(StringComparer.Ordinal);
                AddMetadata(metadata, rootSpans[0].Span.Resource, resource: true);
                foreach (var root in rootSpans)
                {
                    AddMetadata(metadata, root.Span.Attributes, resource: false);
                }
            }

            // A model call whose messages come as log events elsewhere still says which model answered.
            var model = genAi.Select(v => v.Content.Model).FirstOrDefault(m => m is not null);
            if (options.Interaction == InteractionRule.Trace && genAi.Count > 0)
            {
                metadata ??= new Dictionary<string, string>(StringComparer.Ordinal);
                AddMetadata(metadata, genAi[0].Span.Resource, resource: true);
                foreach (var view in genAi.Where(v => !v.Detached))
                {
                    AddMetadata(metadata, view.Span.Attributes, resource: false);
                }
            }

            if (traceFeedback != Feedback.None || metadata is { Count: > 0 } || model is not null)
            {
                result.Parts.Add(TracePart.ForFeedback(traceId, traceFeedback, spans[0].Span.Place) with { Metadata = metadata, Model = model });
            }

            return;
        }

        var withOutput = roots.Where(v => v.Content.HasOutput).OrderBy(v => v.Span.EndUnixNano).ToList();
        if (withOutput.Count == 0)
        {
            withOutput = [.. genAi.Where(v => v.Content.HasOutput).OrderBy(v => v.Span.EndUnixNano).TakeLast(1)];
        }

        var first = withInput[0];
        var partOf = Make(traceId, [first], withOutput.Count > 0 ? [withOutput[^1]] : [], spans, traceFeedback, byId, first.Span.Place);
        var conversation = genAi.Select(v => v.Content.ConversationId).FirstOrDefault(c => c is not null);
        interactions.Add(new Interaction(partOf, conversation, first.Content, withOutput.Count > 0 ? withOutput[^1].Content : first.Content));
    }

    private static bool IsModelCall(SpanContent content) => content.Operation is "chat" or "text_completion" or "generate_content" or "llm";

    private static bool HasGenAiAncestor(SpanView view, Dictionary<string, SpanView> byId)
    {
        var parent = view.Span.ParentSpanId;
        for (var depth = 0; parent is not null && depth < 256 && byId.TryGetValue(parent, out var p); depth++)
        {
            if (p.Content.IsGenAi)
            {
                return true;
            }

            parent = p.Span.ParentSpanId;
        }

        return false;
    }

    private static Feedback Combine(IEnumerable<Feedback> feedbacks)
    {
        var combined = Feedback.None;
        foreach (var f in feedbacks)
        {
            combined = TraceMerge.Combine(combined, f);
        }

        return combined;
    }

    /// <summary>A trace part from the span giving the input, the span giving the answer, and the spans whose attributes become metadata.</summary>
    private static TracePart Make(string id, List<SpanView> input, List<SpanView> output, List<SpanView> context, Feedback feedback, Dictionary<string, SpanView> byId, string place)
    {
        var asked = input[0];
        var answered = output.Count > 0 ? output[^1] : null;
        var traceInput = asked.Content.Input is { Count: > 0 } messages ? TraceInput.FromMessages(messages) : TraceInput.FromText(asked.Content.InputText!);
        var model = answered?.Content.Model ?? asked.Content.Model ?? context.Select(v => v.Content.Model).FirstOrDefault(m => m is not null);

        // Metadata: the resource, then the trace's root span, then the interaction spans (later ones win).
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        AddMetadata(metadata, asked.Span.Resource, resource: true);
        foreach (var root in context)
        {
            if (!ReferenceEquals(root, asked) && !root.Detached && (root.Span.ParentSpanId is null || !byId.ContainsKey(root.Span.ParentSpanId)))
            {
                AddMetadata(metadata, root.Span.Attributes, resource: false);
            }
        }

        AddMetadata(metadata, asked.Span.Attributes, resource: false);
        if (answered is not null && !ReferenceEquals(answered, asked))
        {
            AddMetadata(metadata, answered.Span.Attributes, resource: false);
        }

        var trace = new Trace(id, FromNanos(asked.Span.StartUnixNano), traceInput, answered?.Content.Answer, model, metadata, feedback, null);
        return TracePart.ForTrace(trace, place);
    }

    private static void AddMetadata(Dictionary<string, string> metadata, IReadOnlyDictionary<string, object?> attributes, bool resource)
    {
        foreach (var (key, value) in attributes)
        {
            if (resource && (key.StartsWith("telemetry.", StringComparison.Ordinal) || key == "service.instance.id" || key.StartsWith("process.", StringComparison.Ordinal)))
            {
                continue;
            }

            if (key == "metadata" && Map(Structure(value)) is { } nested)
            {
                // OpenInference puts the application's metadata in one JSON attribute: its fields are the metadata.
                foreach (var (k, v) in nested)
                {
                    if (AsText(v) is { } t)
                    {
                        metadata[k] = t;
                    }
                }

                continue;
            }

            if (key == "tag.tags" && value is not null)
            {
                metadata["tags"] = value is string s ? s : Json(value);
                continue;
            }

            if (GenAiContent.IsContentKey(key) || value is null)
            {
                continue;
            }

            var text = AsText(value)!;
            if (text.Length <= 1024)
            {
                metadata[key] = text;
            }
        }
    }

    /// <summary>One trace per conversation id: the turns in time order, each turn's new messages and its answer.</summary>
    private static void Conversations(List<Interaction> interactions, PayloadParts result)
    {
        foreach (var group in interactions.GroupBy(i => i.ConversationId))
        {
            if (group.Key is null)
            {
                result.Parts.AddRange(group.Select(i => i.Part));
                continue;
            }

            var turns = group.OrderBy(i => i.Part.Trace!.Timestamp).ToList();
            var messages = new List<ChatMessage>();
            var feedback = Feedback.None;
            foreach (var turn in turns)
            {
                var asked = turn.Part.Trace!.Input.Messages ?? [new ChatMessage("user", turn.Part.Trace.Input.Text!)];

                // A turn usually repeats the history before its new message; only what is new is appended.
                var shared = 0;
                while (shared < messages.Count && shared < asked.Count && messages[shared] == asked[shared])
                {
                    shared++;
                }

                messages.AddRange(shared == messages.Count ? asked.Skip(shared) : asked);
                if (turn.Part.Trace.Output is { } answer)
                {
                    messages.Add(new ChatMessage("assistant", answer));
                }

                feedback = TraceMerge.Combine(feedback, turn.Part.Feedback);
            }

            // The last answer is the output; the messages before it are the input.
            var last = turns[^1].Part.Trace!;
            if (last.Output is not null && messages.Count > 1)
            {
                messages.RemoveAt(messages.Count - 1);
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var turn in turns)
            {
                foreach (var (k, v) in turn.Part.Trace!.Metadata)
                {
                    metadata[k] = v;
                }
            }

            var trace = new Trace(group.Key, turns[0].Part.Trace!.Timestamp, TraceInput.FromMessages(messages), last.Output, last.Model, metadata, feedback, null);
            result.Parts.Add(TracePart.ForTrace(trace, turns[0].Part.Place));
        }
    }

    internal static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
}
