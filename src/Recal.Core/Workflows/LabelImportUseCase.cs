using Recal.Diagnostics;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;

namespace Recal.Workflows;

/// <summary>What <c>recal label import</c> (or the dashboard's review form) is asked: the labelled file and when.</summary>
/// <param name="File">The labelled CSV or JSONL; null when <paramref name="Csv"/> gives the rows.</param>
/// <param name="Source">How the change names where the labels came from (the file's name, or the review form); it locates the problems of <paramref name="Csv"/>'s rows.</param>
/// <param name="Csv">The labelled rows as CSV text, read as a labelled CSV file is (the review form's row).</param>
public sealed record LabelImportRequest(EvalProject Project, string? File, DateTimeOffset Now, bool DryRun = false, string? Source = null, string? Csv = null);

/// <summary>A draft as stored: the file it is in and the draft.</summary>
public sealed record StoredDraft(string Path, Draft Draft);

/// <summary>
/// The import's outcome: the rows' verdicts (<see cref="Import"/>: cases, unlabelled drafts, located problems), where each
/// pool's new cases went, and the change recorded (null on a dry run or when nothing was imported).
/// </summary>
public sealed record LabelImportResult(LabelImport Import, IReadOnlyList<(Pool Pool, string File, int Cases)> Written, ChangeEntry? Entry, IReadOnlyList<string> DraftProblems)
{
    public int Errors => Import.Diagnostics.Count(d => d.Severity == Severity.Error);
}

/// <summary>
/// Labelled drafts become cases: every row validated like a case-file line and located; the good ones appended to
/// their pool's case file, their drafts removed and the change recorded in the changelog, all in one journalled change
/// of the project's files (an interrupted import is completed or not begun, never half done).
/// </summary>
public static class LabelImportUseCase
{
    public static LabelImportResult Run(LabelImportRequest request, ProjectWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(workspace);
        var project = request.Project;
        var (files, problems) = ReadDrafts(project.Root);
        IReadOnlyList<Draft> waiting = [.. files.Select(f => f.Draft)];
        var today = DateOnly.FromDateTime(request.Now.UtcDateTime);
        var import = request.Csv is { } csv
            ? Labelling.ImportCsv(new StringReader(csv), request.Source ?? "labels", waiting, project, today)
            : Labelling.Import(request.File ?? throw new ArgumentException("a labelled file or CSV rows are needed", nameof(request)), waiting, project, today, request.Source);
        var folder = CaseMover.NewFileFolder(project);
        var written = import.Cases.GroupBy(c => c.Pool).Select(g => (g.Key, Path.Combine(folder, g.Key.ToString().ToLowerInvariant() + ".jsonl"), g.Count())).ToList();
        if (request.DryRun || import.Cases.Count == 0)
        {
            return new LabelImportResult(import, written, null, problems);
        }

        using var change = workspace.Begin("label import");
        foreach (var group in import.Cases.GroupBy(c => c.Pool))
        {
            change.AppendAllLines(written.First(w => w.Key == group.Key).Item2, group.Select(CaseFileWriter.ToJson));
        }

        var imported = import.Cases.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var group in files.GroupBy(f => f.Path))
        {
            var left = group.Select(f => f.Draft).Where(d => !imported.Contains(d.Id)).ToList();
            if (left.Count == 0)
            {
                change.Delete(group.Key);
            }
            else if (left.Count < group.Count())
            {
                DraftFile.Write(change, group.Key, left);
            }
        }

        var after = project with { Cases = [.. project.Cases, .. import.Cases] };
        var entry = new ChangeEntry(
            request.Now,
            "label import",
            "labelling",
            project.Policy.Version,
            ProjectHasher.SuiteVersion(project),
            ProjectHasher.SuiteVersion(after),
            $"{import.Cases.Count} labelled draft(s) from {request.Source ?? Path.GetFileName(request.File)} added",
            [.. import.Cases.Select(c => new CaseMove(c.Id, "draft", c.Pool.ToString().ToLowerInvariant()))])
        {
            Owner = project.Policy.Ownership?.Owner,
        };
        Changelog.Append(change, entry);
        change.Commit();
        return new LabelImportResult(import, written, entry, problems);
    }

    /// <summary>Every draft in the project's drafts folder with its file, file by file in name order, and the lines that could not be read.</summary>
    public static (IReadOnlyList<StoredDraft> Drafts, IReadOnlyList<string> Problems) ReadDrafts(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var drafts = new List<StoredDraft>();
        var problems = new List<string>();
        var folder = Path.Combine(root, DraftFile.Folder);
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.jsonl").Order(StringComparer.Ordinal))
            {
                var (read, issues) = DraftFile.Read(file);
                drafts.AddRange(read.Select(d => new StoredDraft(file, d)));
                problems.AddRange(issues);
            }
        }

        return (drafts, problems);
    }
}
