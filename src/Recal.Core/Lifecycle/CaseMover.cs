using Recal.Domain;
using Recal.Project;

namespace Recal.Lifecycle;

/// <summary>Moves cases between pools in their case files: each moved case's line is rewritten in place, the rest untouched.</summary>
public static class CaseMover
{
    /// <summary>The folder new case files go to: that of the project's first case file, or cases/.</summary>
    public static string NewFileFolder(EvalProject project)
    {
        ArgumentNullException.ThrowIfNull(project);
        return project.Settings.CasePaths.Count > 0 ? Path.GetDirectoryName(project.Settings.CasePaths[0])! : Path.Combine(project.Root, "cases");
    }

    /// <summary>Rewrites the lines of the given cases with their new pool; returns how many lines changed.</summary>
    public static int Move(IProjectFiles files, EvalProject project, IReadOnlyDictionary<string, Pool> moves)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(moves);
        var changed = 0;
        foreach (var file in project.Cases.Where(c => moves.ContainsKey(c.Id) && c.Location.Line is not null).GroupBy(c => c.Location.File))
        {
            var path = Path.GetFullPath(Path.Combine(project.Root, file.Key));
            var lines = files.ReadAllLines(path);
            foreach (var evalCase in file)
            {
                lines[evalCase.Location.Line!.Value - 1] = CaseFileWriter.ToJson(evalCase with { Pool = moves[evalCase.Id] });
                changed++;
            }

            files.WriteAllLines(path, lines);
        }

        return changed;
    }
}
