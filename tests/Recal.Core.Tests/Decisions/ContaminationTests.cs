using System.Text.Json;
using FluentAssertions;
using Recal.Decisions;
using Recal.Domain;
using Xunit;

namespace Recal.Core.Tests.Decisions;

/// <summary>Checked against SciPy's quadrature (Fixtures/generate_selection.py).</summary>
public sealed class ContaminationTests
{
    [Fact]
    public void The_expected_maximum_of_k_standard_normals_matches_scipy()
    {
        var values = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "selection.json"))).RootElement.GetProperty("values");
        values.GetArrayLength().Should().BeGreaterThan(10);
        foreach (var v in values.EnumerateArray())
        {
            Contamination.ExpectedMaximum(v.GetProperty("k").GetInt32()).Should().BeApproximately(v.GetProperty("expected_maximum").GetDouble(), 1e-10, v.ToString());
        }

        Contamination.ExpectedMaximum(1).Should().Be(0);
    }

    [Fact]
    public async Task Exposure_counts_configurations_since_the_rotation_and_a_regrade_is_not_one()
    {
        // Given 20 gold cases, one added late, and runs: one before the rotation, three configurations after it, and a regrade
        var rotation = DecisionFixture.Now.AddDays(-10);
        List<Domain.EvalCase> cases = [.. Enumerable.Range(0, 19).Select(i => DecisionFixture.GoldCase($"g-{i:00}", new DateOnly(2026, 1, 1))), DecisionFixture.GoldCase("g-late", DateOnly.FromDateTime(DecisionFixture.Now.AddDays(-3).UtcDateTime))];
        var store = new Drift.InMemoryStore();
        void Add(string id, string target, string json, DateTimeOffset started) =>
            store.Runs.Add((DecisionFixture.Run(id, target) with { TargetJson = json, Started = started }, [.. cases.Select(c => DecisionFixture.Result(c.Id, true))]));
        Add("r0", "a", """{"model":"old"}""", rotation.AddDays(-5));
        Add("r1", "a", """{"model":"m1"}""", rotation.AddDays(1));
        Add("r2", "a", """{"model":"m2"}""", rotation.AddDays(2));
        Add("r3", "b", """{"model":"x"}""", DecisionFixture.Now.AddDays(-1));
        Add("r4", "a", """{"model":"m2","regrade_of":"r2"}""", DecisionFixture.Now);

        var estimate = (await Contamination.EstimateAsync(DecisionFixture.ProjectWith(GatePolicy.Defaults, cases: cases), store, rotation, cancellationToken: TestContext.Current.CancellationToken))!;

        // Then three configurations of two targets since the rotation, over four runs; the late case saw only the last two runs
        estimate.Configurations.Should().Be(3);
        estimate.Targets.Should().Be(2);
        estimate.Runs.Should().Be(4);
        estimate.SelectionBias.Should().BeApproximately(Math.Sqrt(0.25 / 20) * Contamination.ExpectedMaximum(3), 1e-15);
        estimate.MostExposed[0].Should().Be(new CaseExposure("g-00", 5, 2, 4, 4, 3));
        estimate.MostExposed.Should().NotContain(e => e.CaseId == "g-late");
        estimate.MeanConfigurationsPerCase.Should().BeApproximately(((19 * 3) + 1) / 20.0, 1e-12);
    }
}
