using System.Security.Cryptography;
using System.Text;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;

namespace Recal.Workflows;

/// <summary>What a reviewer wrote for one draft in the dashboard's review form.</summary>
/// <param name="DraftId">The draft labelled.</param>
/// <param name="Version">The draft's version as the form showed it (<see cref="ReviewUseCase.VersionOf"/>): a draft changed or labelled since is not overwritten.</param>
/// <param name="Intent">The intent, corrected or as drafted.</param>
/// <param name="ReferenceHigh">A reference answer graded high (required to label).</param>
/// <param name="ReferenceBorderline">An optional reference answer graded borderline.</param>
/// <param name="Contains">An optional text the answer must contain.</param>
/// <param name="Difficulty">easy, medium or hard; empty for none.</param>
/// <param name="ValidUntil">An optional last day the case holds (yyyy-mm-dd).</param>
public sealed record ReviewLabel(string DraftId, string Version, string? Intent, string? ReferenceHigh, string? ReferenceBorderline, string? Contains, string? Difficulty, string? ValidUntil);

/// <summary>How a review ended.</summary>
public enum ReviewOutcome
{
    /// <summary>The draft became a case.</summary>
    Labelled,

    /// <summary>The labels have problems (<see cref="ReviewResult.Diagnostics"/>); nothing was written and the draft stays.</summary>
    Invalid,

    /// <summary>The draft is gone (another reviewer labelled it) or changed since the form was shown; nothing was written.</summary>
    Conflict,
}

/// <summary>The review's outcome, its located problems, and the change recorded when the draft became a case.</summary>
public sealed record ReviewResult(ReviewOutcome Outcome, IReadOnlyList<Diagnostic> Diagnostics, ChangeEntry? Entry, string? Message = null, EvalCase? Case = null);

/// <summary>
/// The dashboard's review queue: drafts labelled one at a time in the browser, validated and imported exactly as
/// <c>recal label import</c> imports a file (<see cref="LabelImportUseCase"/>), under the workspace's lock. A draft carries
/// its version into the form; when two reviewers label the same draft, the second finds it changed or gone and is told,
/// and nothing of theirs overwrites the first's.
/// </summary>
public static class ReviewUseCase
{
    /// <summary>Where the form's labels are located in problems.</summary>
    public const string FormName = "the review form";

    /// <summary>A draft's version: a hash of its stored line, which any change to the draft changes.</summary>
    public static string VersionOf(Draft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(DraftFile.ToLine(draft))))[..16];
    }

    /// <summary>Labels one draft, under <paramref name="workspace"/>'s lock, against the project as it is on disk now.</summary>
    public static ReviewResult Label(ReviewLabel label, ProjectWorkspace workspace, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(workspace);
        var (loaded, diagnostics) = EvalProjectLoader.Load(workspace.Root);
        if (loaded is not { } project)
        {
            return new ReviewResult(ReviewOutcome.Invalid, diagnostics, null, "the project does not load; fix the errors listed, then label again");
        }

        var (drafts, _) = LabelImportUseCase.ReadDrafts(project.Root);
        var draft = drafts.FirstOrDefault(d => d.Draft.Id == label.DraftId)?.Draft;
        if (draft is null)
        {
            var labelled = project.Cases.Any(c => c.Id == label.DraftId);
            return new ReviewResult(ReviewOutcome.Conflict, [], null,
                labelled ? $"draft '{label.DraftId}' was labelled by someone else in the meantime: it is a case now, and your labels were not saved" : $"there is no draft '{label.DraftId}' any more: nothing was saved");
        }

        if (!string.Equals(VersionOf(draft), label.Version, StringComparison.Ordinal))
        {
            return new ReviewResult(ReviewOutcome.Conflict, [], null, $"draft '{label.DraftId}' changed since the form was opened: nothing was saved; open it again to see it as it is now");
        }

        if (string.IsNullOrWhiteSpace(label.ReferenceHigh))
        {
            return new ReviewResult(ReviewOutcome.Invalid, [new Diagnostic(Severity.Error, "RC1604", "a case needs a reference answer graded high", new SourceLocation(FormName, CaseId: draft.Id), "write what a good answer says in 'reference answer (high)'")], null);
        }

        // The form's labels as one row of the labelling CSV, imported like a labeller's file.
        var row = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["id"] = draft.Id,
            ["trace_id"] = draft.TraceId,
            ["pool"] = draft.Pool,
            ["intent"] = label.Intent,
            ["reference_high"] = label.ReferenceHigh,
            ["reference_borderline"] = label.ReferenceBorderline,
            ["contains"] = label.Contains,
            ["difficulty"] = label.Difficulty,
            ["valid_until"] = label.ValidUntil,
        };
        var csv = Text.Csv.Line(Labelling.CsvColumns) + "\n" + Text.Csv.Line([.. Labelling.CsvColumns.Select(c => row.GetValueOrDefault(c) ?? string.Empty)]) + "\n";
        var result = LabelImportUseCase.Run(new LabelImportRequest(project, null, now, Source: FormName, Csv: csv), workspace);

        // The row is the form, not a line of a file: its problems are located at the form and the draft.
        var problems = result.Import.Diagnostics.Select(d => d with { Location = new SourceLocation(FormName, CaseId: draft.Id) }).ToList();
        return result.Import.Cases.Count == 1
            ? new ReviewResult(ReviewOutcome.Labelled, problems, result.Entry, Case: result.Import.Cases[0])
            : new ReviewResult(ReviewOutcome.Invalid, problems, null);
    }
}
