using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using Recal.Domain;
using Recal.Ingest;
using Recal.Running;

namespace Recal.Diagnostics;

/// <summary>
/// Recal's own traces and metrics: one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named
/// <see cref="Name"/>. A host exports them with the OpenTelemetry SDK (<c>AddSource("Recal")</c>,
/// <c>AddMeter("Recal")</c>); with no listener attached, starting an activity returns null and costs nothing.
/// Tags carry names, counts and ids, never input or output texts, prompts, keys or headers (docs/architecture.md#observability).
/// </summary>
public static class RecalTelemetry
{
    /// <summary>The name of the activity source and of the meter.</summary>
    public const string Name = "Recal";

    /// <summary>The activity around one ingest of one file.</summary>
    public const string IngestActivity = "recal.ingest";

    /// <summary>The activity around one execution of a run.</summary>
    public const string RunActivity = "recal.run";

    /// <summary>The activity around one case of a run: its target call, scorers and judges.</summary>
    public const string CaseActivity = "recal.case";

    /// <summary>The operation name of target and judge calls (OpenTelemetry GenAI conventions).</summary>
    public const string ChatOperation = "chat";

    private static readonly string Version = typeof(RecalTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(RecalTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>The source every Recal activity starts from.</summary>
    public static readonly ActivitySource Source = new(Name, Version);

    /// <summary>The meter of Recal's counters.</summary>
    public static readonly Meter Meter = new(Name, Version);

    private static readonly Counter<long> IngestedTraces = Meter.CreateCounter<long>("recal.ingest.traces", "{trace}", "Traces added to the store by ingests.");
    private static readonly Counter<long> QuarantinedRecords = Meter.CreateCounter<long>("recal.ingest.quarantined", "{record}", "Records quarantined by ingests.");
    private static readonly Counter<long> CasesRun = Meter.CreateCounter<long>("recal.run.cases", "{case}", "Cases given a result by runs, by outcome (passed, failed, error).");
    private static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens used by target and judge calls.");

    /// <summary>The receiver's commit of the requests waiting together: <c>recal.serve.commit</c> (docs/architecture.md#observability).</summary>
    public const string CommitActivity = "recal.serve.commit";

    /// <summary>Starts the activity of one commit of <paramref name="requests"/> OTLP requests holding <paramref name="parts"/> trace parts.</summary>
    public static Activity? StartCommit(int requests, int parts)
    {
        var activity = Source.StartActivity(CommitActivity, ActivityKind.Internal);
        activity?.SetTag("recal.serve.requests", requests);
        activity?.SetTag("recal.serve.parts", parts);
        return activity;
    }

    /// <summary>Ends a commit: the traces it added and records it quarantined counted as an ingest's are; a failure by its type.</summary>
    public static void EndCommit(Activity? activity, long added, long merged, long quarantined, Exception? error = null)
    {
        IngestedTraces.Add(added);
        QuarantinedRecords.Add(quarantined);
        if (activity is null)
        {
            return;
        }

        activity.SetTag("recal.ingest.traces_added", added);
        activity.SetTag("recal.ingest.traces_merged", merged);
        activity.SetTag("recal.ingest.quarantined", quarantined);
        if (error is not null)
        {
            Fail(activity, error);
        }
    }

    internal static Activity? StartIngest(string path, TraceFormat format)
    {
        var activity = Source.StartActivity(IngestActivity, ActivityKind.Internal);
        if (activity is not null)
        {
            // The file's name only: its folder may name a user or a customer, and its content is never a tag.
            activity.SetTag("file.name", Path.GetFileName(path));
            activity.SetTag("recal.ingest.format", TraceFormats.Name(format));
        }

        return activity;
    }

    internal static void EndIngest(Activity? activity, IngestSummary summary)
    {
        IngestedTraces.Add(summary.Added);
        QuarantinedRecords.Add(summary.Quarantined);
        if (activity is null)
        {
            return;
        }

        activity.SetTag("recal.ingest.format", TraceFormats.Name(summary.Format));
        activity.SetTag("recal.ingest.lines_read", summary.LinesRead);
        activity.SetTag("recal.ingest.traces_added", summary.Added);
        activity.SetTag("recal.ingest.duplicates", summary.Duplicates);
        activity.SetTag("recal.ingest.quarantined", summary.Quarantined);
        if (summary.Failure is { } failure)
        {
            activity.SetStatus(ActivityStatusCode.Error, failure.Code);
            activity.SetTag("error.type", failure.Code);
        }
    }

    internal static Activity? StartRun(RunInfo run, int cases)
    {
        var activity = Source.StartActivity(RunActivity, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("recal.run.id", run.Id);
            activity.SetTag("recal.run.target", run.Target);
            activity.SetTag("recal.run.pools", run.Pools.ToString());
            activity.SetTag("recal.run.cases", cases);
        }

        return activity;
    }

    internal static void EndRun(Activity? activity, RunSummary summary)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("recal.run.passed", summary.Passed);
        activity.SetTag("recal.run.failed", summary.Failed);
        activity.SetTag("recal.run.errors", summary.Errors);
        activity.SetTag("recal.run.calls", summary.Calls);
        activity.SetTag("recal.run.cache_hits", summary.CacheHits);
        activity.SetTag("recal.run.status", summary.Run.Status.ToString().ToLowerInvariant());
    }

    internal static Activity? StartCase(EvalCase evalCase, string? runId)
    {
        var activity = Source.StartActivity(CaseActivity, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("recal.case.id", evalCase.Id);
            activity.SetTag("recal.run.id", runId);
        }

        return activity;
    }

    internal static void EndCase(Activity? activity, CaseResult result)
    {
        if (CasesRun.Enabled)
        {
            CasesRun.Add(1, new KeyValuePair<string, object?>("recal.outcome", result.Error is not null ? "error" : result.Passed ? "passed" : "failed"));
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag("recal.case.passed", result.Passed);
        if (result.Error is not null)
        {
            // The error text may quote a provider's reply; the status says that the case errored, not what it said.
            activity.SetStatus(ActivityStatusCode.Error, "the case has no verdict");
        }
    }

    /// <summary>A target or judge call to a chat model, named <c>chat {model}</c> as the GenAI conventions ask.</summary>
    internal static Activity? StartChat(string? model, string? caseId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(model is { Length: > 0 } ? $"{ChatOperation} {model}" : ChatOperation, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", ChatOperation);
            activity.SetTag("gen_ai.request.model", model);
            activity.SetTag("recal.case.id", caseId);
        }

        return activity;
    }

    /// <summary>A judge's call: a chat call tagged with the judge's name and the rubric it grades by.</summary>
    internal static Activity? StartJudge(string judge, string model, Judging.Rubric rubric, string caseId)
    {
        var activity = StartChat(model, caseId);
        if (activity is not null)
        {
            activity.SetTag("recal.judge.name", judge);
            activity.SetTag("recal.rubric.name", rubric.Name);
            activity.SetTag("recal.rubric.version", rubric.Version);
        }

        return activity;
    }

    /// <summary>What a chat call returned: whether the cache answered, the model that did and its token usage.</summary>
    internal static void EndChat(Activity? activity, bool fromCache, string? responseModel, long? inputTokens, long? outputTokens)
    {
        if (!fromCache)
        {
            RecordTokens(inputTokens, "input", responseModel);
            RecordTokens(outputTokens, "output", responseModel);
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag("recal.cache.hit", fromCache);
        if (!fromCache)
        {
            // A cache hit used no tokens this time.
            activity.SetTag("gen_ai.response.model", responseModel);
            activity.SetTag("gen_ai.usage.input_tokens", inputTokens);
            activity.SetTag("gen_ai.usage.output_tokens", outputTokens);
        }
    }

    /// <summary>Marks a failed call: the exception's type, never its message (a provider's reply may quote the request).</summary>
    internal static void Fail(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        // The HTTP status when there was one (the HTTP conventions' error.type), else the exception's type.
        var type = error is TargetCallException { Status: { } status } ? status.ToString(System.Globalization.CultureInfo.InvariantCulture) : error.GetType().Name;
        activity.SetStatus(ActivityStatusCode.Error, type);
        activity.SetTag("error.type", type);
    }

    private static void RecordTokens(long? tokens, string type, string? model)
    {
        if (tokens is { } count && TokenUsage.Enabled)
        {
            TokenUsage.Record(count, new KeyValuePair<string, object?>("gen_ai.operation.name", ChatOperation), new KeyValuePair<string, object?>("gen_ai.token.type", type), new KeyValuePair<string, object?>("gen_ai.response.model", model));
        }
    }
}
