using System.Diagnostics;
using FluentAssertions;
using Recal.Classification;
using Xunit;

namespace Recal.Core.Tests.Classification;

/// <summary>Quality of the built-in classifier on CLINC150's held-out test split (figures in docs/classifier.md).</summary>
public sealed class ClassifierAccuracyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(20, 0.79)]
    [InlineData(100, 0.89)]
    public void Classifier_labels_held_out_queries_accurately(int examplesPerIntent, double floor)
    {
        // Given a classifier trained on N examples of each of CLINC150's 150 intents and out-of-scope
        var data = Clinc150.Data;
        var watch = Stopwatch.StartNew();
        var classifier = LinearIntentClassifier.Train(data.Taxonomy(examplesPerIntent));
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

        inScopeAccuracy.Should().BeGreaterThan(floor);
    }

    [Fact]
    public void Sample_taxonomy_classifier_labels_the_sample_intents_held_out_queries_accurately()
    {
        // Given the sample project's taxonomy (106 intents, 20 training examples each)
        var project = Recal.Project.EvalProjectLoader.Load(Path.Combine(RepositoryPaths.Root, "samples", "clinc150-support")).Project!;
        var classifier = LinearIntentClassifier.Train(project.Taxonomy);
        var intents = project.Taxonomy.Intents.Select(i => i.Name).ToHashSet();

        // When it labels CLINC150's held-out test queries of those intents
        var test = Clinc150.Data.Test.Where(r => intents.Contains(r.Intent)).ToList();
        var predictions = test.Select(r => (r.Intent, Predicted: classifier.Classify(r.Text))).ToList();

        // Then the best guess is right most of the time, and the unknown outcome removes the least certain
        var inScope = predictions.Where(p => p.Intent != Clinc150.OutOfScope).ToList();
        var accuracy = inScope.Count(p => p.Predicted.BestGuess == p.Intent) / (double)inScope.Count;
        var oos = predictions.Where(p => p.Intent == Clinc150.OutOfScope).ToList();
        var oosRecall = oos.Count(p => p.Predicted.BestGuess == Clinc150.OutOfScope) / (double)oos.Count;
        var oosUnknown = oos.Count(p => p.Predicted.IsUnknown) / (double)oos.Count;
        var unknown = inScope.Count(p => p.Predicted.IsUnknown) / (double)inScope.Count;
        var confident = inScope.Where(p => !p.Predicted.IsUnknown).ToList();
        var confidentAccuracy = confident.Count(p => p.Predicted.Intent == p.Intent) / (double)confident.Count;
        output.WriteLine($"sample taxonomy: {inScope.Count} in-scope and {oos.Count} out-of-scope held-out queries");
        output.WriteLine($"in-scope accuracy {accuracy:0.0000}; unknown at {project.Taxonomy.Classifier.UnknownBelow}: {unknown:0.0000}; accuracy of the rest {confidentAccuracy:0.0000}");
        output.WriteLine($"out-of-scope: labelled out_of_scope {oosRecall:0.0000}, unknown {oosUnknown:0.0000}");
        accuracy.Should().BeGreaterThan(0.80);
        confidentAccuracy.Should().BeGreaterThan(accuracy);
    }
}
