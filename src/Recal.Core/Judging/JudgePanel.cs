using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Polly;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Recal.Scoring;
using Recal.Storage;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Recal.Judging;

/// <summary>One judge of a panel: its name, its client and the options (seed, temperature) it is called with.</summary>
public sealed record PanelJudge(string Name, IChatClient Client, string Endpoint, string Model, ChatOptions Options);

/// <summary>
/// Runs an ensemble of LLM judges on an output: every judge gets the rendered rubric prompt; a reply that breaks
/// the format gets one repair request; the valid verdicts are combined by <see cref="JudgeEnsemble"/>. Replies are
/// cached like target calls. Failures are counted and never pass; disagreements go to the review queue.
/// </summary>
/// <param name="maxConcurrentCalls">At most this many judge calls in flight at once; null for no limit beyond the run's own.</param>
public sealed class JudgePanel(Rubric rubric, IReadOnlyList<PanelJudge> judges, ResiliencePipeline pipeline, IRecalStore? cache, TimeSpan? cacheTtl, CallGuard? guard = null, ReviewQueue? reviewQueue = null, int? maxConcurrentCalls = null)
{
    private readonly SemaphoreSlim? _slots = maxConcurrentCalls is { } n ? new SemaphoreSlim(n, n) : null;
    private int _failedVotes;
    private int _repairs;
    private int _reviews;
    private int _calls;

    public Rubric Rubric => rubric;

    public IReadOnlyList<PanelJudge> Judges => judges;

    /// <summary>Judge replies that could not be used even after the repair request.</summary>
    public int FailedVotes => Volatile.Read(ref _failedVotes);

    /// <summary>Repair requests sent.</summary>
    public int Repairs => Volatile.Read(ref _repairs);

    /// <summary>Cases sent to human review.</summary>
    public int Reviews => Volatile.Read(ref _reviews);

    /// <summary>Judge calls made (cache hits excluded).</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>The scorer name runs record: <c>judge:</c> + the rubric id.</summary>
    public string ScorerName => "judge:" + rubric.Id;

    public async ValueTask<(ScoreResult Score, JudgeOutcome Outcome)> JudgeAsync(EvalCase evalCase, string output, string? runId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        ArgumentNullException.ThrowIfNull(output);
        var prompt = JudgePrompt.Render(rubric, evalCase, output);
        var votes = new JudgeVote[judges.Count];
        await Task.WhenAll(judges.Select(async (judge, i) => votes[i] = await VoteAsync(judge, prompt, evalCase.Id, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);

        var verdicts = votes.Select(v => new JudgeVerdict(v.Judge, v.Scores, v.Rationale, v.Error)).ToList();
        var ensemble = JudgeEnsemble.Combine(rubric, verdicts);
        var outcome = new JudgeOutcome(rubric.Id, ensemble.Scores, ensemble.Passed, ensemble.Failures, ensemble.NeedsReview, ensemble.Disagreements, votes);
        if (ensemble.NeedsReview)
        {
            Interlocked.Increment(ref _reviews);
            if (reviewQueue is not null)
            {
                await reviewQueue.AddAsync(runId, evalCase, output, outcome, cancellationToken).ConfigureAwait(false);
            }
        }

        ScoreResult score;
        if (ensemble.Scores is not { } medians)
        {
            var reasons = string.Join("; ", votes.Select(v => $"{v.Judge}: {v.Error}"));
            score = ScoreResult.Error(ScorerName, $"no judge gave a usable verdict ({reasons})");
        }
        else
        {
            var normalised = rubric.Dimensions.Average(d => d.Max == d.Min ? 1 : (medians[d.Name] - d.Min) / (d.Max - d.Min));
            var summary = string.Join(", ", rubric.Dimensions.Select(d => $"{d.Name} {medians[d.Name]:0.#}"));
            var notes = new StringBuilder(summary);
            if (ensemble.Failures > 0)
            {
                notes.Append($"; {ensemble.Failures} of {votes.Length} judges failed");
            }

            if (ensemble.NeedsReview)
            {
                notes.Append($"; judges disagree on {string.Join(", ", ensemble.Disagreements)} (sent to review)");
            }

            score = new ScoreResult(ScorerName, normalised, ensemble.Passed, notes.ToString());
        }

        return (score, outcome);
    }

    private async Task<JudgeVote> VoteAsync(PanelJudge judge, string prompt, string caseId, CancellationToken cancellationToken)
    {
        List<AIChatMessage> messages = [new(ChatRole.User, prompt)];
        string reply;
        bool fromCache;
        try
        {
            (reply, fromCache) = await CallAsync(judge, messages, caseId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failedVotes);
            return new JudgeVote(judge.Name, null, null, $"the call failed: {e.Message}", false, false);
        }

        var verdict = JudgeVerdictParser.Parse(judge.Name, reply, rubric);
        if (verdict.IsValid)
        {
            return new JudgeVote(judge.Name, verdict.Scores, verdict.Rationale, null, false, fromCache);
        }

        Interlocked.Increment(ref _repairs);
        messages.Add(new AIChatMessage(ChatRole.Assistant, reply));
        messages.Add(new AIChatMessage(ChatRole.User, JudgeVerdictParser.RepairPrompt(verdict, rubric)));
        try
        {
            (reply, fromCache) = await CallAsync(judge, messages, caseId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failedVotes);
            return new JudgeVote(judge.Name, null, null, $"{verdict.Error}; the repair call failed: {e.Message}", true, false);
        }

        var repaired = JudgeVerdictParser.Parse(judge.Name, reply, rubric);
        if (!repaired.IsValid)
        {
            Interlocked.Increment(ref _failedVotes);
            return new JudgeVote(judge.Name, null, null, $"{verdict.Error}; after the repair request: {repaired.Error}", true, fromCache);
        }

        return new JudgeVote(judge.Name, repaired.Scores, repaired.Rationale, null, true, fromCache);
    }

    /// <summary>One judge call (or cache hit) inside its <c>chat {model}</c> activity.</summary>
    private async Task<(string Reply, bool FromCache)> CallAsync(PanelJudge judge, List<AIChatMessage> messages, string caseId, CancellationToken cancellationToken)
    {
        var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (judge.Options.Temperature is { } temperature)
        {
            parameters["temperature"] = JsonSerializer.SerializeToElement(temperature);
        }

        if (judge.Options.Seed is { } seed)
        {
            parameters["seed"] = JsonSerializer.SerializeToElement(seed);
        }

        using var activity = RecalTelemetry.StartJudge(judge.Name, judge.Model, rubric, caseId);
        try
        {
            var (text, fromCache, usage, model) = await CachedOrCalledAsync(judge, messages, parameters, cancellationToken).ConfigureAwait(false);
            RecalTelemetry.EndChat(activity, fromCache, model, usage?.InputTokenCount, usage?.OutputTokenCount);
            return (text, fromCache);
        }
        catch (Exception e)
        {
            RecalTelemetry.Fail(activity, e);
            throw;
        }
    }

    private async Task<(string Reply, bool FromCache, UsageDetails? Usage, string? Model)> CachedOrCalledAsync(PanelJudge judge, List<AIChatMessage> messages, Dictionary<string, JsonElement> parameters, CancellationToken cancellationToken)
    {
        var key = CacheKey.For("judge", judge.Endpoint, judge.Model, parameters, [.. messages.Select(m => (m.Role.Value, m.Text))]);
        var now = DateTimeOffset.UtcNow;
        if (cache is not null && await cache.GetCachedResponseAsync(key, now, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return (Encoding.UTF8.GetString(cached), true, null, null);
        }

        if (_slots is not null)
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        ChatResponse response;
        try
        {
            response = await pipeline.ExecuteAsync(
                async token =>
                {
                    Interlocked.Increment(ref _calls);
                    return await (guard ?? CallGuard.None).RunAsync(t => judge.Client.GetResponseAsync(messages, judge.Options, t), judge.Name, token).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots?.Release();
        }

        var text = response.Text;
        if (cache is not null)
        {
            await cache.PutCachedResponseAsync(key, Encoding.UTF8.GetBytes(text), now, now + cacheTtl, cancellationToken).ConfigureAwait(false);
        }

        return (text, false, response.Usage, response.ModelId);
    }
}

/// <summary>
/// The human review queue: cases whose judges disagreed by more than one point, appended as JSON lines with the
/// input, the output and every vote, for a person to settle.
/// </summary>
public sealed class ReviewQueue(string path)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private readonly SemaphoreSlim _gate = new(1, 1);

    public string Path => path;

    public async ValueTask AddAsync(string? runId, EvalCase evalCase, string output, JudgeOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        ArgumentNullException.ThrowIfNull(outcome);
        var line = JsonSerializer.Serialize(
            new
            {
                run = runId,
                caseId = evalCase.Id,
                intent = evalCase.Intent,
                input = evalCase.Input.ClassificationText,
                output,
                rubric = outcome.Rubric,
                disagreements = outcome.Disagreements,
                median = outcome.Median,
                votes = outcome.Votes.Select(v => new { judge = v.Judge, scores = v.Scores, rationale = v.Rationale, error = v.Error }),
            },
            Json);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            await File.AppendAllTextAsync(path, line + "\n", cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
