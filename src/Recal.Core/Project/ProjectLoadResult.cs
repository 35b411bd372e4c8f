using Recal.Diagnostics;
using Recal.Domain;

namespace Recal.Project;

/// <summary>The loaded project (null when a file could not be read at all) and every problem found.</summary>
public sealed record ProjectLoadResult(EvalProject? Project, IReadOnlyList<Diagnostic> Diagnostics)
{
    /// <summary>The settings of recal.yaml when they were read, even if a later file failed; the project's otherwise.</summary>
    public ProjectSettings? Settings
    {
        get => field ?? Project?.Settings;
        init;
    }

    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);
}
