using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Storage;

namespace Recal.Workflows;

/// <summary>What <c>recal rotate</c> is asked to do.</summary>
/// <param name="Project">The project as loaded.</param>
/// <param name="Holdout">The holdout to rotate: the opened seal's cases when it is sealed, else the holdout cases in the case files.</param>
/// <param name="GraduateShare">The share of the holdout that graduates into gold (clamped to [0, 1]); the rest retires.</param>
/// <param name="Seed">Seed of the graduates' choice and of the new holdout's draw.</param>
/// <param name="Now">The rotation's time: the retirement rules' today and the changelog's entry.</param>
public sealed record RotateRequest(EvalProject Project, IReadOnlyList<EvalCase> Holdout, double GraduateShare, int Seed, DateTimeOffset Now)
{
    /// <summary>Measures which gold cases no recent traffic comes near (the host's embedder); null skips that retirement rule.</summary>
    public Func<CycleTraffic?, CancellationToken, Task<NeighbourhoodResult?>>? Neighbourhood { get; init; }
}

/// <summary>A rotation worked out but not applied: what a dry run shows and a confirmation approves.</summary>
/// <param name="Graduates">The holdout cases that graduate into gold.</param>
/// <param name="Retirements">The gold cases the retirement rules retire.</param>
/// <param name="NewHoldoutSize">The size of the new holdout drawn as drafts (size × holdout_fraction).</param>
/// <param name="HoldoutSizeSource">Where that size comes from, as the draw's arithmetic says it.</param>
/// <param name="Diagnostics">What the draw's rules say before it (RC1106 when the floors need more than the size).</param>
public sealed record RotatePlan(
    RotateRequest Request,
    IReadOnlySet<EvalCase> Graduates,
    IReadOnlyList<RetirementCandidate> Retirements,
    int NewHoldoutSize,
    string HoldoutSizeSource,
    IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>The holdout cases that retire (those that do not graduate).</summary>
    public int HoldoutRetiring => Request.Holdout.Count - Graduates.Count;
}

/// <summary>A rotation applied: the new holdout's draw and the changelog entry that records it.</summary>
/// <param name="Drawn">The new holdout's draw; null when the store holds no traffic or the holdout's size is 0.</param>
/// <param name="Drafted">How many drafts were written.</param>
/// <param name="Entry">The changelog entry, with the suite versions before and after.</param>
public sealed record RotateResult(RotatePlan Plan, SampleResult? Drawn, int Drafted, ChangeEntry Entry, IReadOnlyList<Diagnostic> Diagnostics);

/// <summary>
/// The rotation (docs/lifecycle.md): a share of the opened holdout graduates into gold and the rest retires, gold cases
/// retire by the rules, the seal is spent, and a new holdout is drawn as drafts to label and seal. Applied as one change
/// of the project's workspace: after a crash at any step the next open completes it, so the project is never half-rotated.
/// </summary>
public static class RotateUseCase
{
    /// <summary>Works out the rotation: graduates, retirements, and the new holdout's size.</summary>
    public static async Task<RotatePlan> PlanAsync(RotateRequest request, IRecalStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        var project = request.Project;
        var share = Math.Clamp(request.GraduateShare, 0, 1);
        var graduates = request.Holdout.Where(c => c.References.Count > 0)
            .OrderBy(c => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{request.Seed}\u001f{c.Id}"))), StringComparer.Ordinal)
            .Take((int)Math.Round(request.Holdout.Count * share)).ToHashSet();
        var traffic = await LifecycleRules.CountCyclesAsync(store, project.Policy, Math.Max(1, project.Policy.Retirement.UnmatchedCycles), cancellationToken).ConfigureAwait(false);
        var neighbourhood = request.Neighbourhood is { } measure ? await measure(traffic, cancellationToken).ConfigureAwait(false) : null;
        var retirements = LifecycleRules.Retirements(project, DateOnly.FromDateTime(request.Now.UtcDateTime), traffic, neighbourhood: neighbourhood);
        var (_, source, name) = Sampler.DrawSize(project.Policy, Pool.Holdout, null);
        var size = project.Policy.HoldoutSize;
        IReadOnlyList<Diagnostic> diagnostics = FloorRule.Check(project.Policy, project.Taxonomy, size, name) is { } floors ? [floors] : [];
        return new RotatePlan(request, graduates, retirements, size, source, diagnostics);
    }

    /// <summary>
    /// Applies the plan as one change of <paramref name="workspace"/>: the opened holdout back into the case files with
    /// its new pools, the seal removed, retired gold moved, the new holdout's drafts and the changelog entry.
    /// </summary>
    public static async Task<RotateResult> ApplyAsync(RotatePlan plan, ProjectWorkspace workspace, ITraceStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(store);
        var project = plan.Request.Project;
        var holdout = plan.Request.Holdout;
        var graduates = plan.Graduates;
        using var change = workspace.Begin("rotate");

        // The opened holdout goes back into the case files with its new pools; the seal is spent.
        var folder = CaseMover.NewFileFolder(project);
        if (project.Seal is not null)
        {
            change.AppendAllLines(Path.Combine(folder, "gold.jsonl"), holdout.Where(graduates.Contains).Select(c => CaseFileWriter.ToJson(c with { Pool = Pool.Gold })));
            change.AppendAllLines(Path.Combine(folder, "retired.jsonl"), holdout.Where(c => !graduates.Contains(c)).Select(c => CaseFileWriter.ToJson(c with { Pool = Pool.Retired })));
            HoldoutSeal.Remove(change);
        }

        var moves = holdout.ToDictionary(c => c.Id, c => graduates.Contains(c) ? Pool.Gold : Pool.Retired, StringComparer.Ordinal);
        foreach (var candidate in plan.Retirements)
        {
            moves[candidate.Case.Id] = Pool.Retired;
        }

        var inFiles = project.Cases.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        CaseMover.Move(change, project, moves.Where(m => inFiles.Contains(m.Key)).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal));

        // The set as the change leaves it: every case with its new pool, the opened holdout among them, no seal.
        IReadOnlyList<EvalCase> after =
        [
            .. project.Cases.Select(c => moves.TryGetValue(c.Id, out var pool) ? c with { Pool = pool } : c),
            .. project.Seal is null ? [] : holdout.Select(c => c with { Pool = moves[c.Id] }),
        ];
        var rotated = project with { Cases = after, Seal = null };

        // The new holdout: drafts from the latest traffic window, to label and seal.
        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        SampleResult? drawn = null;
        var drafted = 0;
        if (span is not null && plan.NewHoldoutSize > 0)
        {
            var sampler = new Sampler(rotated.Policy, rotated.Cases, plan.NewHoldoutSize, plan.Request.Seed);
            var end = span.Last.AddMilliseconds(1);
            drawn = await sampler.DrawFromAsync(store, end - rotated.Policy.TrafficWindow, end, cancellationToken).ConfigureAwait(false);
            var prefix = string.Create(CultureInfo.InvariantCulture, $"holdout-{end.UtcDateTime:yyyyMMdd}-s{plan.Request.Seed}");
            var drafts = DraftFile.FromSample(drawn, Pool.Holdout, prefix);
            DraftFile.Write(change, Path.Combine(project.Root, DraftFile.Folder, prefix + ".jsonl"), drafts);
            drafted = drafts.Count;
        }

        var retirements = plan.Retirements.GroupBy(r => r.Case.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var opened = holdout.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var graduated = graduates.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        var entry = new ChangeEntry(
            plan.Request.Now,
            "rotate",
            "rotation",
            project.Policy.Version,
            ProjectHasher.SuiteVersion(project),
            ProjectHasher.SuiteVersion(rotated),
            $"{graduates.Count} holdout case(s) graduated, {plan.HoldoutRetiring + plan.Retirements.Count} retired, {drafted} new holdout draft(s)",
            [.. moves.Select(m => new CaseMove(m.Key, opened.Contains(m.Key) ? "holdout" : "gold", m.Value.ToString().ToLowerInvariant(),
                retirements.TryGetValue(m.Key, out var r) ? $"{r.Rule}: {r.Reason}" : graduated.Contains(m.Key) ? "graduated at rotation" : "retired at rotation"))])
        {
            Owner = project.Policy.Ownership?.Owner,
        };
        Changelog.Append(change, entry);
        change.Commit();
        return new RotateResult(plan, drawn, drafted, entry, []);
    }
}
