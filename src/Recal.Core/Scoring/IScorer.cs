using Recal.Domain;

namespace Recal.Scoring;

/// <summary>Turns a system's output for a case into scores. Implementations are thread-safe.</summary>
public interface IScorer
{
    ValueTask<IReadOnlyList<ScoreResult>> ScoreAsync(EvalCase evalCase, string output, CancellationToken cancellationToken = default);
}
