using System.Collections.Concurrent;
using Recal.Classification;
using Recal.Domain;

namespace Recal.Validation;

/// <summary>
/// Trains each taxonomy's classifier once per process, as <c>recal ingest</c> trains it once per store (keyed by the
/// taxonomy's fingerprint): every seed of a dataset shares the taxonomy, so it shares the trained model.
/// </summary>
public static class Classifiers
{
    private static readonly ConcurrentDictionary<string, Lazy<LinearIntentClassifier>> Trained = new(StringComparer.Ordinal);

    public static LinearIntentClassifier For(Taxonomy taxonomy) =>
        Trained.GetOrAdd(LinearIntentClassifier.TaxonomyFingerprint(taxonomy), _ => new Lazy<LinearIntentClassifier>(() => LinearIntentClassifier.Train(taxonomy))).Value;
}
