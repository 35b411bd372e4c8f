using System.Collections.Concurrent;
using Recal.Domain;

namespace Recal.Classification;

/// <summary>
/// Gives a trace its intent (its own label, else the classifier's) and its cohort key. Predictions are
/// remembered per input text: production traffic repeats the same inputs ("talk to a human", button labels,
/// common questions) and the classifier is deterministic, so a repeat costs a lookup instead of a prediction.
/// A text enters the memo on its second sighting (a table of text hashes remembers the first): traffic whose
/// texts never repeat then costs no memo entries, allocations or strings kept alive.
/// </summary>
public sealed class TraceClassifier
{
    /// <summary>Inputs longer than this are not remembered: they rarely repeat and would crowd the memo.</summary>
    public const int MaxRememberedLength = 256;

    /// <summary>The memo is emptied when it reaches this many inputs, keeping its memory bounded (≈ 20 MB).</summary>
    public const int MaxRemembered = 100_000;

    private readonly IIntentClassifier _classifier;
    private readonly CohortResolver _cohorts;
    /// <summary>Slots of the table of texts seen once; a power of two (512 KB).</summary>
    public const int SeenSlots = 1 << 17;

    private readonly ConcurrentDictionary<string, IntentPrediction> _memo = new(StringComparer.Ordinal);

    // The hash of the last text seen once in each slot. Threads race on a slot harmlessly: a lost or stale entry
    // only delays a text's admission by one sighting, and results never depend on the memo.
    private readonly uint[] _seen = new uint[SeenSlots];
    private long _lookups;
    private long _hits;

    public TraceClassifier(IIntentClassifier classifier, Taxonomy taxonomy)
    {
        _classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
        _cohorts = new CohortResolver(taxonomy);
    }

    /// <summary>Cohort values classified so far that the taxonomy does not list (<see cref="CohortResolver.Unlisted"/>).</summary>
    public IReadOnlyList<UnlistedCohortValues> UnlistedCohortValues() => _cohorts.Unlisted();

    /// <summary>Share of classifier lookups answered from the memo so far.</summary>
    public double MemoHitRate => _lookups == 0 ? 0 : (double)Interlocked.Read(ref _hits) / Interlocked.Read(ref _lookups);

    public ClassifiedTrace Classify(Trace trace, string key)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var cohortKey = _cohorts.Key(trace.Metadata);

        // A label is kept even when the taxonomy lacks it: it is real traffic the taxonomy does not know yet.
        if (!string.IsNullOrWhiteSpace(trace.Intent))
        {
            return new ClassifiedTrace(trace, key, trace.Intent, IntentSource.Label, 1, cohortKey);
        }

        var prediction = Predict(trace.Input.ClassificationText);
        return new ClassifiedTrace(
            trace,
            key,
            prediction.Intent,
            prediction.IsUnknown ? IntentSource.Unknown : IntentSource.Classifier,
            prediction.Confidence,
            cohortKey);
    }

    private IntentPrediction Predict(string text)
    {
        if (text.Length > MaxRememberedLength)
        {
            return _classifier.Classify(text);
        }

        Interlocked.Increment(ref _lookups);
        if (_memo.TryGetValue(text, out var remembered))
        {
            Interlocked.Increment(ref _hits);
            return remembered;
        }

        var prediction = _classifier.Classify(text);
        if (!SeenBefore(text))
        {
            return prediction;
        }

        if (_memo.Count >= MaxRemembered)
        {
            _memo.Clear();
        }

        _memo.TryAdd(text, prediction);
        return prediction;
    }

    /// <summary>Whether <paramref name="text"/> (probably) was seen once already; if not, it is remembered as seen.</summary>
    private bool SeenBefore(string text)
    {
        // FNV-1a: the same in every process, so which texts share a slot does not change from run to run.
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        hash |= 1;
        ref var slot = ref _seen[hash % SeenSlots];
        if (Volatile.Read(ref slot) == hash)
        {
            return true;
        }

        Volatile.Write(ref slot, hash);
        return false;
    }
}
