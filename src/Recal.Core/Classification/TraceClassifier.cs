using Recal.Domain;

namespace Recal.Classification;

/// <summary>Gives a trace its intent (its own label, else the classifier's) and its cohort key.</summary>
public sealed class TraceClassifier
{
    private readonly IIntentClassifier _classifier;
    private readonly CohortResolver _cohorts;

    public TraceClassifier(IIntentClassifier classifier, Taxonomy taxonomy)
    {
        _classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
        _cohorts = new CohortResolver(taxonomy);
    }

    public ClassifiedTrace Classify(Trace trace, string key)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var cohortKey = _cohorts.Key(trace.Metadata);

        // A label is kept even when the taxonomy lacks it: it is real traffic the taxonomy does not know yet.
        if (!string.IsNullOrWhiteSpace(trace.Intent))
        {
            return new ClassifiedTrace(trace, key, trace.Intent, IntentSource.Label, 1, cohortKey);
        }

        var prediction = _classifier.Classify(trace.Input.ClassificationText);
        return new ClassifiedTrace(
            trace,
            key,
            prediction.Intent,
            prediction.IsUnknown ? IntentSource.Unknown : IntentSource.Classifier,
            prediction.Confidence,
            cohortKey);
    }
}
