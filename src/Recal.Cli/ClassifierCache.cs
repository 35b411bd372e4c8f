using Recal.Classification;
using Recal.Domain;
using Recal.Storage;

namespace Recal.Cli;

/// <summary>Trains the taxonomy's intent classifier once and keeps the trained model in the store, keyed by the taxonomy's fingerprint.</summary>
internal static class ClassifierCache
{
    public static async Task<LinearIntentClassifier> GetAsync(Taxonomy taxonomy, IRecalStore store, CancellationToken cancellationToken)
    {
        var key = "classifier:" + LinearIntentClassifier.TaxonomyFingerprint(taxonomy);
        if (await store.GetBlobAsync(key, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return LinearIntentClassifier.Deserialize(cached);
        }

        var classifier = LinearIntentClassifier.Train(taxonomy);
        await store.PutBlobAsync(key, classifier.Serialize(), cancellationToken).ConfigureAwait(false);
        return classifier;
    }
}
