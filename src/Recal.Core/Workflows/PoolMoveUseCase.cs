using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;

namespace Recal.Workflows;

/// <summary>What a retirement or a promotion changes: the cases' new pools, and how the changelog names the change.</summary>
/// <param name="Command">The command that made it (<c>retire</c>, <c>promote</c>).</param>
/// <param name="Rule">The policy rule that proposed it.</param>
public sealed record PoolMoveRequest(EvalProject Project, IReadOnlyDictionary<string, Pool> Moves, string Command, string Rule, string Summary, IReadOnlyList<CaseMove> CaseMoves, DateTimeOffset Now);

/// <summary>
/// Moves cases between pools in their case files and records the change in the changelog, as one journalled change of
/// the project's files: an interrupted retirement or promotion is completed or not begun, never left with the cases
/// moved and the change unrecorded.
/// </summary>
public static class PoolMoveUseCase
{
    public static ChangeEntry Apply(PoolMoveRequest request, ProjectWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(workspace);
        var project = request.Project;
        using var change = workspace.Begin(request.Command);
        CaseMover.Move(change, project, request.Moves);
        var after = project with { Cases = [.. project.Cases.Select(c => request.Moves.TryGetValue(c.Id, out var pool) ? c with { Pool = pool } : c)] };
        var entry = new ChangeEntry(request.Now, request.Command, request.Rule, project.Policy.Version, ProjectHasher.SuiteVersion(project), ProjectHasher.SuiteVersion(after), request.Summary, request.CaseMoves)
        {
            Owner = project.Policy.Ownership?.Owner,
        };
        Changelog.Append(change, entry);
        change.Commit();
        return entry;
    }
}
