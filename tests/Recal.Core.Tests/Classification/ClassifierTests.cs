using FluentAssertions;
using Recal.Classification;
using Recal.Domain;
using Xunit;

namespace Recal.Core.Tests.Classification;

public sealed class ClassifierTests
{
    private static readonly Taxonomy Small = new(
        1,
        [
            new IntentDefinition("balance", null, ["how much money do i have", "what is my account balance", "show my balance", "check my checking balance", "balance in savings please"], [], "banking"),
            new IntentDefinition("freeze_account", null, ["freeze my account", "lock my account now", "please block my account", "put a freeze on my account", "stop all activity on my account"], [], "banking"),
            new IntentDefinition("weather", null, ["what is the weather today", "will it rain tomorrow", "is it sunny outside", "weather forecast for the weekend", "how cold is it"], ["forecast"], "utility"),
        ],
        [new CohortDimension("plan", "plan", ["free", "pro"], "unknown"), new CohortDimension("locale", "lang", [], "unknown")],
        new ClassifierSettings(0.5));

    [Fact]
    public void Training_twice_gives_identical_models()
    {
        LinearIntentClassifier.Train(Small).Serialize().Should().Equal(LinearIntentClassifier.Train(Small).Serialize());
    }

    [Fact]
    public void Classifies_unseen_phrasings_of_the_trained_intents()
    {
        var classifier = LinearIntentClassifier.Train(Small);

        classifier.Classify("whats the balance on my account").Intent.Should().Be("balance");
        classifier.Classify("freeze the account please").Intent.Should().Be("freeze_account");
        classifier.Classify("is it going to rain").Intent.Should().Be("weather");
    }

    [Fact]
    public void Text_unlike_any_intent_falls_below_the_threshold_and_is_unknown()
    {
        var classifier = LinearIntentClassifier.Train(Small);

        var prediction = classifier.Classify("zxq vbnm plork");

        prediction.IsUnknown.Should().BeTrue();
        prediction.Intent.Should().Be(Taxonomy.UnknownIntent);
        prediction.BestGuess.Should().NotBe(Taxonomy.UnknownIntent);
        prediction.Confidence.Should().BeLessThan(0.5);
    }

    [Fact]
    public void Serialized_model_predicts_exactly_like_the_original()
    {
        var original = LinearIntentClassifier.Train(Small);
        var copy = LinearIntentClassifier.Deserialize(original.Serialize());

        foreach (var text in new[] { "show balance", "lock it", "rain?", "", "🙂 unicode ünïcödé" })
        {
            copy.Classify(text).Should().Be(original.Classify(text));
        }
    }

    [Fact]
    public void Model_of_an_unknown_format_version_is_refused_with_what_to_do()
    {
        var data = LinearIntentClassifier.Train(Small).Serialize();
        data[0] = 99;

        var act = () => LinearIntentClassifier.Deserialize(data);

        act.Should().Throw<InvalidDataException>().WithMessage("*retrain*");
    }

    [Fact]
    public void Fingerprint_changes_with_the_examples()
    {
        var changed = Small with { Intents = [.. Small.Intents.Take(2), Small.Intents[2] with { Examples = ["different"] }] };

        LinearIntentClassifier.TaxonomyFingerprint(changed).Should().NotBe(LinearIntentClassifier.TaxonomyFingerprint(Small));
        LinearIntentClassifier.TaxonomyFingerprint(Small).Should().Be(LinearIntentClassifier.TaxonomyFingerprint(Small with { }));
    }

    [Fact]
    public void Trace_with_a_label_keeps_it_even_when_the_taxonomy_lacks_it()
    {
        var classifier = new TraceClassifier(LinearIntentClassifier.Train(Small), Small);
        var trace = Trace("book a flight to rome", intent: "book_flight");

        var classified = classifier.Classify(trace, "id:1");

        classified.Intent.Should().Be("book_flight");
        classified.IntentSource.Should().Be(IntentSource.Label);
        classified.Confidence.Should().Be(1);
    }

    [Fact]
    public void Trace_without_a_label_gets_the_classifier_intent_and_its_cohort_key()
    {
        var classifier = new TraceClassifier(LinearIntentClassifier.Train(Small), Small);
        var trace = Trace("what is my balance", metadata: new() { ["plan"] = "enterprise", ["lang"] = "fr" });

        var classified = classifier.Classify(trace, "id:2");

        classified.Intent.Should().Be("balance");
        classified.IntentSource.Should().Be(IntentSource.Classifier);
        classified.CohortKey.Should().Be("plan=unknown|locale=fr");
    }

    [Fact]
    public void Repeated_inputs_are_remembered_from_their_second_sighting()
    {
        var counting = new CountingClassifier();
        var classifier = new TraceClassifier(counting, Small);

        for (var i = 0; i < 5; i++)
        {
            classifier.Classify(Trace("what is my balance"), "id:" + i).Intent.Should().Be("balance");
        }

        classifier.Classify(Trace("something else"), "id:x");

        // First sighting: noted as seen; second: classified again and remembered; the other three from the memo.
        counting.Calls.Should().Be(3);
        classifier.MemoHitRate.Should().BeApproximately(3 / 6.0, 1e-12);
    }

    [Fact]
    public void Texts_seen_once_in_between_do_not_keep_a_text_out_of_the_memo()
    {
        var counting = new CountingClassifier();
        var classifier = new TraceClassifier(counting, Small);

        classifier.Classify(Trace("what is my balance"), "id:1");
        for (var i = 0; i < 1000; i++)
        {
            classifier.Classify(Trace("order " + i), "id:u" + i);
        }

        classifier.Classify(Trace("what is my balance"), "id:2");
        var calls = counting.Calls;
        classifier.Classify(Trace("what is my balance"), "id:3").Intent.Should().Be("balance");

        calls.Should().Be(1002);
        counting.Calls.Should().Be(calls, "the text was seen before the thousand unique ones, so its second sighting admitted it");
    }

    [Fact]
    public void Cohort_keys_round_trip_values_holding_separators()
    {
        var values = new List<KeyValuePair<string, string>> { new("plan", "a|b=c\\d"), new("locale", "") };

        var key = CohortResolver.FormatKey(values);

        CohortResolver.ParseKey(key).Should().Equal(values);
    }

    [Fact]
    public void Featurizer_is_stable_across_calls_and_ignores_case_and_punctuation()
    {
        ulong[] a = new ulong[4], b = new ulong[4];
        int[] ca = new int[4], cb = new int[4];

        var na = TextFeaturizer.Featurize("Freeze my ACCOUNT!!", ref a, ref ca);
        var nb = TextFeaturizer.Featurize("freeze my account", ref b, ref cb);

        a.AsSpan(0, na).ToArray().Should().Equal(b.AsSpan(0, nb).ToArray());
        na.Should().BeGreaterThan(10);
    }

    private static Trace Trace(string text, string? intent = null, Dictionary<string, string>? metadata = null) =>
        new(null, DateTimeOffset.UnixEpoch, TraceInput.FromText(text), null, null, metadata ?? [], Feedback.None, intent);

    private sealed class CountingClassifier : IIntentClassifier
    {
        public int Calls { get; private set; }

        public IntentPrediction Classify(string text)
        {
            Calls++;
            return new IntentPrediction("balance", 0.9, false, "balance");
        }
    }
}
