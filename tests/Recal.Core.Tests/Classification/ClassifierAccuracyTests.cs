using System.Diagnostics;
using FluentAssertions;
using Recal.Classification;
using Xunit;

namespace Recal.Core.Tests.Classification;

/// <summary>Quality of the built-in classifier on CLINC150's held-out test split (figures in docs/classifier.md).</summary>
public sealed class ClassifierAccuracyTests(ITestOutputHelper output)
{
    [Fact]
    public void Classifier_trained_on_twenty_examples_per_intent_labels_held_out_queries_accurately()
    {
        // Given a classifier trained on 20 examples of each of CLINC150's 150 intents and out-of-scope
        var data = Clinc150.Data;
        var watch = Stopwatch.StartNew();
        var classifier = LinearIntentClassifier.Train(data.Taxonomy(20));
        var trainSeconds = watch.Elapsed.TotalSeconds;

        // When it labels the 5,500 held-out test queries
        watch.Restart();
        var predictions = data.Test.Select(r => (r.Intent, Predicted: classifier.Classify(r.Text))).ToList();
        var classifySeconds = watch.Elapsed.TotalSeconds;

        // Then in-scope accuracy stays above the documented floor
        var inScope = predictions.Where(p => p.Intent != Clinc150.OutOfScope).ToList();
        var inScopeAccuracy = inScope.Count(p => p.Predicted.BestGuess == p.Intent) / (double)inScope.Count;
        var overall = predictions.Count(p => p.Predicted.BestGuess == p.Intent) / (double)predictions.Count;
        var oos = predictions.Where(p => p.Intent == Clinc150.OutOfScope).ToList();
        var oosRecall = oos.Count(p => p.Predicted.BestGuess == Clinc150.OutOfScope) / (double)oos.Count;
        output.WriteLine($"train {trainSeconds:0.00}s; classify {classifySeconds / predictions.Count * 1e6:0.0} µs/query");
        output.WriteLine($"overall {overall:0.0000}; in-scope {inScopeAccuracy:0.0000}; out-of-scope recall {oosRecall:0.0000}");
        foreach (var threshold in new[] { 0.1, 0.2, 0.3, 0.4 })
        {
            var unknown = predictions.Count(p => p.Predicted.Confidence < threshold) / (double)predictions.Count;
            var confident = predictions.Where(p => p.Predicted.Confidence >= threshold).ToList();
            var accuracy = confident.Count(p => p.Predicted.BestGuess == p.Intent) / (double)Math.Max(1, confident.Count);
            output.WriteLine($"unknown_below {threshold}: unknown {unknown:0.0000}; accuracy of the rest {accuracy:0.0000}");
        }

        inScopeAccuracy.Should().BeGreaterThan(0.80);
    }
}
