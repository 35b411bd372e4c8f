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
            // A problem placed in a record left that record out; one placed at the payload is about the whole of it.
            result.Problems.Add(problem);
            if (problem.Place != OtlpPayload.Whole)
            {
                result.Rejected++;
            }
            else if (problem.Code is "RC2001" or "RC2002")
            {
                result.Unreadable = true;
            }
        }

        // Log records become events of the span they name; those whose span is elsewhere stand as event-only spans.
        var bySpan = payload.Logs.Count == 0 ? [] : payload.Spans.GroupBy(s => (s.TraceId, s.SpanId)).ToDictionary(g => g.Key, g => g.First());
        var extraEvents = new Dictionary<(string, string), List<OtelEvent>>();
        var detached = new Dictionary<(string, string), OtelSpan>();
        foreach (var log in payload.Logs)
        {
            if (log.TraceId is null)
            {
                result.Problems.Add(new PayloadProblem("RC2004", log.Place, $"log record '{log.EventName}' names no trace (traceId is empty), so it cannot be attached to an interaction"));
                result.Rejected++;
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
            views.Add(View(span, extraEvents.Count == 0 ? null : extraEvents.GetValueOrDefault((span.TraceId, span.SpanId)), detachedEvents: false, options, result));
        }

        foreach (var (key, span) in detached)
        {
            views.Add(View(span, extraEvents[key], detachedEvents: true, options, result));
        }

        var interactions = new List<Interaction>();
        if (Runs(views) is { } runs)
        {
            // Spans of each trace together, as exporters send them: each run is a trace, no regrouping.
            var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(views);
            foreach (var (start, count) in runs)
            {
                BuildTrace(views[start].Span.TraceId, all.Slice(start, count), options, result, interactions);
            }
        }
        else
        {
            foreach (var trace in views.GroupBy(v => v.Span.TraceId))
            {
                BuildTrace(trace.Key, [.. trace], options, result, interactions);
            }
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

    /// <summary>The runs of spans with the same trace id, when no trace id appears in two runs; else null.</summary>
    private static List<(int Start, int Count)>? Runs(List<SpanView> views)
    {
        var runs = new List<(int, int)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var start = 0;
        for (var i = 1; i <= views.Count; i++)
        {
            if (i < views.Count && views[i].Span.TraceId == views[start].Span.TraceId)
            {
                continue;
            }

            if (!seen.Add(views[start].Span.TraceId))
            {
                return null;
            }

            runs.Add((start, i - start));
            start = i;
        }

        return runs;
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

    private static void BuildTrace(string traceId, ReadOnlySpan<SpanView> spans, OtelMappingOptions options, PayloadParts result, List<Interaction> interactions)
    {
        var byId = new SpanIndex(spans);
        var orphanNoted = false;
        foreach (var view in spans)
        {
            if (view.Detached)
            {
                continue;
            }

            if (view.Span.ParentSpanId is null)
            {
                result.Roots.Add(traceId);
            }
            else if (!byId.Contains(view.Span.ParentSpanId) && !orphanNoted)
            {
                orphanNoted = true;
                result.Orphans.Add(new OrphanCandidate(traceId, view.Span.SpanId, view.Span.ParentSpanId, view.Span.Place));
            }
        }

        var traceFeedback = Feedback.None;
        foreach (var view in spans)
        {
            foreach (var link in view.FeedbackLinks)
            {
                var target = options.Interaction == InteractionRule.Span ? link.TraceId + ":" + link.SpanId : link.TraceId;
                result.Parts.Add(TracePart.ForFeedback(target, view.Feedback, view.Span.Place));
            }

            if (view.FeedbackLinks.Count == 0)
            {
                traceFeedback = TraceMerge.Combine(traceFeedback, view.Feedback);
            }

            if (IsInteractionSpan(view) && !view.Content.HasInput && !view.Content.HasOutput && !view.Detached && IsModelCall(view.Content))
            {
                result.SpansWithoutContent++;
            }
        }

        if (options.Interaction == InteractionRule.Span)
        {
            foreach (var view in spans)
            {
                if (IsInteractionSpan(view) && view.Content.HasInput)
                {
                    var part = Make(traceId + ":" + view.Span.SpanId, view, view, [], view.Feedback, byId, view.Span.Place);
                    interactions.Add(new Interaction(part, view.Content.ConversationId, view.Content, view.Content));
                }
            }

            return;
        }

        // The interaction is the outermost GenAI span(s): those with no GenAI ancestor in the payload. The question is
        // the earliest such span's (the first in the payload among equal times), the answer the one that ends last.
        SpanView? first = null, last = null, firstAnywhere = null, lastAnywhere = null;
        string? conversation = null;
        foreach (var view in spans)
        {
            if (!IsInteractionSpan(view))
            {
                continue;
            }

            conversation ??= view.Content.ConversationId;
            var root = !HasGenAiAncestor(view, byId);
            if (view.Content.HasInput)
            {
                if (root && (first is null || view.Span.StartUnixNano < first.Span.StartUnixNano))
                {
                    first = view;
                }

                if (firstAnywhere is null || view.Span.StartUnixNano < firstAnywhere.Span.StartUnixNano)
                {
                    firstAnywhere = view;
                }
            }

            if (view.Content.HasOutput)
            {
                if (root && (last is null || view.Span.EndUnixNano > last.Span.EndUnixNano
                    || (view.Span.EndUnixNano == last.Span.EndUnixNano && view.Span.StartUnixNano >= last.Span.StartUnixNano)))
                {
                    last = view;
                }

                if (lastAnywhere is null || view.Span.EndUnixNano >= lastAnywhere.Span.EndUnixNano)
                {
                    lastAnywhere = view;
                }
            }
        }

        // An agent span without content of its own: its first model call says what was asked.
        first ??= firstAnywhere;
        if (first is null)
        {
            NoInteraction(traceId, spans.ToArray(), traceFeedback, options, result);
            return;
        }

        last ??= lastAnywhere;
        var partOf = Make(traceId, first, last, spans, traceFeedback, byId, first.Span.Place);

        // Several outermost spans asking something are the turns of a conversation in one trace: every turn is kept.
        var turns = new List<SpanView>();
        foreach (var view in spans)
        {
            if (IsInteractionSpan(view) && view.Content.HasInput && !HasGenAiAncestor(view, byId))
            {
                turns.Add(view);
            }
        }

        if (turns.Count > 1)
        {
            var fold = Turn(turns.OrderBy(t => t.Span.StartUnixNano).First(), partOf.Trace!);
            foreach (var turn in turns.OrderBy(t => t.Span.StartUnixNano).Skip(1))
            {
                fold = Fold(fold, Turn(turn, fold));
            }

            partOf = partOf with { Trace = partOf.Trace! with { Input = fold.Input, Output = fold.Output, Model = fold.Model ?? partOf.Trace!.Model } };
        }

        interactions.Add(new Interaction(partOf, conversation, first.Content, last?.Content ?? first.Content));
    }

    private static bool IsInteractionSpan(SpanView view) => view.Content.IsGenAi && view.FeedbackLinks.Count == 0;

    /// <summary>No interaction in the payload's spans of a trace, but perhaps its root span (arriving after its GenAI spans) or its feedback.</summary>
    private static void NoInteraction(string traceId, SpanView[] spans, Feedback traceFeedback, OtelMappingOptions options, PayloadParts result)
    {
        var genAi = spans.Where(IsInteractionSpan).ToList();
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
    }

    /// <summary>The spans of one trace by span id (detached log events are not spans); a single span needs no table.</summary>
    private readonly struct SpanIndex
    {
        private readonly SpanView? _only;
        private readonly Dictionary<string, SpanView>? _byId;

        public SpanIndex(ReadOnlySpan<SpanView> spans)
        {
            if (spans.Length == 1)
            {
                _only = spans[0].Detached ? null : spans[0];
                return;
            }

            _byId = new Dictionary<string, SpanView>(spans.Length, StringComparer.Ordinal);
            foreach (var view in spans)
            {
                if (!view.Detached)
                {
                    _byId.TryAdd(view.Span.SpanId, view);
                }
            }
        }

        public bool Contains(string spanId) => TryGet(spanId, out _);

        public bool TryGet(string spanId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SpanView? view)
        {
            if (_byId is not null)
            {
                return _byId.TryGetValue(spanId, out view);
            }

            view = _only is not null && _only.Span.SpanId == spanId ? _only : null;
            return view is not null;
        }
    }

    private static bool IsModelCall(SpanContent content) => content.Operation is "chat" or "text_completion" or "generate_content" or "llm";

    private static bool HasGenAiAncestor(SpanView view, SpanIndex byId)
    {
        var parent = view.Span.ParentSpanId;
        for (var depth = 0; parent is not null && depth < 256 && byId.TryGet(parent, out var p); depth++)
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
    private static TracePart Make(string id, SpanView asked, SpanView? answered, ReadOnlySpan<SpanView> context, Feedback feedback, SpanIndex byId, string place)
    {
        var traceInput = asked.Content.Input is { Count: > 0 } messages ? TraceInput.FromMessages(messages) : TraceInput.FromText(asked.Content.InputText!);
        var model = answered?.Content.Model ?? asked.Content.Model;
        foreach (var view in context)
        {
            model ??= view.Content.Model;
        }

        // Metadata: the resource, then the trace's root span, then the interaction spans (later ones win).
        var metadata = new Dictionary<string, string>(asked.Span.Attributes.Count + asked.Span.Resource.Count, StringComparer.Ordinal);
        AddMetadata(metadata, asked.Span.Resource, resource: true);
        foreach (var root in context)
        {
            if (!ReferenceEquals(root, asked) && !root.Detached && (root.Span.ParentSpanId is null || !byId.Contains(root.Span.ParentSpanId)))
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
                // Older conventions' names are stored under the latest ones (a span carrying both keeps the latest's value).
                var name = LatestName(key);
                if (ReferenceEquals(name, key) || !attributes.ContainsKey(name))
                {
                    metadata[name] = text;
                }
            }
        }
    }

    /// <summary>The latest GenAI convention's name for an attribute an older one named otherwise; else the name itself.</summary>
    private static string LatestName(string key) => key switch
    {
        "gen_ai.system" => "gen_ai.provider.name",
        "gen_ai.usage.prompt_tokens" => "gen_ai.usage.input_tokens",
        "gen_ai.usage.completion_tokens" => "gen_ai.usage.output_tokens",
        _ => key,
    };

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
            var conversation = turns[0].Part.Trace!;
            var feedback = turns[0].Part.Feedback;
            foreach (var turn in turns.Skip(1))
            {
                // A turn usually repeats the history before its new message: only what is new is added.
                conversation = Fold(conversation, turn.Part.Trace!);
                feedback = TraceMerge.Combine(feedback, turn.Part.Feedback);
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var turn in turns)
            {
                foreach (var (k, v) in turn.Part.Trace!.Metadata)
                {
                    metadata[k] = v;
                }
            }

            var trace = new Trace(group.Key, turns[0].Part.Trace!.Timestamp, TraceInput.FromMessages(TraceMerge.Messages(conversation.Input)), conversation.Output, conversation.Model, metadata, feedback, null);
            result.Parts.Add(TracePart.ForTrace(trace, turns[0].Part.Place));
        }
    }

    /// <summary>The turns so far with one more, by the rule that merges parts arriving in different files (<see cref="TraceMerge.Content"/>).</summary>
    private static Trace Fold(Trace conversation, Trace turn)
    {
        var (input, output, model) = TraceMerge.Content(conversation, turn);
        return conversation with { Input = input, Output = output, Model = model, Timestamp = turn.Timestamp < conversation.Timestamp ? turn.Timestamp : conversation.Timestamp };
    }

    /// <summary>One outermost span's own question and answer, as a trace like <paramref name="like"/>.</summary>
    private static Trace Turn(SpanView view, Trace like) =>
        like with
        {
            Timestamp = FromNanos(view.Span.StartUnixNano),
            Input = view.Content.Input is { Count: > 0 } messages ? TraceInput.FromMessages(messages) : TraceInput.FromText(view.Content.InputText!),
            Output = view.Content.Answer,
            Model = view.Content.Model,
        };

    internal static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
}
