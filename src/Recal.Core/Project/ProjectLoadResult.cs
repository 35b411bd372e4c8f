using Recal.Diagnostics;
using Recal.Domain;

namespace Recal.Project;

/// <summary>The loaded project (null when a file could not be read at all) and every problem found.</summary>
public sealed record ProjectLoadResult(EvalProject? Project, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);
}
