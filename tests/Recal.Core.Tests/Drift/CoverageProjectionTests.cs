using System.Text.Json;
using FluentAssertions;
using Recal.Drift;
using Xunit;

namespace Recal.Core.Tests.Drift;

/// <summary>The coverage map's principal components against scikit-learn's PCA (Fixtures/generate_projection.py).</summary>
public sealed class CoverageProjectionTests
{
    private static readonly JsonElement Fixtures = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "projection.json"))).RootElement;

    [Fact]
    public void The_two_components_and_their_variance_shares_match_scikit_learn()
    {
        foreach (var c in Fixtures.GetProperty("cases").EnumerateArray())
        {
            // Given rows scikit-learn projected
            var name = c.GetProperty("name").GetString();
            var dimensions = c.GetProperty("dimensions").GetInt32();
            var rows = c.GetProperty("rows").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

            // When they are fitted and projected
            var (axes, mean, explained) = CoverageProjection.Fit(rows, dimensions);
            var projected = CoverageProjection.Transform(rows, dimensions, axes, mean);

            // Then the variance shares and every row's coordinates agree, sign convention included
            var expectedShares = c.GetProperty("explained").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            explained.Should().HaveCount(2, name);
            for (var k = 0; k < 2; k++)
            {
                explained[k].Should().BeApproximately(expectedShares[k], 1e-6, $"{name}, component {k + 1}'s share");
            }

            var expected = c.GetProperty("projected").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            var scale = expected.Max(r => Math.Abs(r[0]));
            for (var i = 0; i < expected.Length; i++)
            {
                projected[i][0].Should().BeApproximately(expected[i][0], 1e-5 * scale, $"{name}, row {i}, first component");
                projected[i][1].Should().BeApproximately(expected[i][1], 1e-5 * scale, $"{name}, row {i}, second component");
            }
        }
    }

    [Fact]
    public void Rows_on_one_line_put_all_their_variance_on_the_first_component()
    {
        // Given points on a line through 3-D space
        var rows = Enumerable.Range(0, 10).SelectMany(i => new[] { i * 1f, i * 2f, 1f }).ToArray();

        // When fitted
        var (axes, _, explained) = CoverageProjection.Fit(rows, 3);

        // Then the first axis is the line's direction, with all the variance
        explained[0].Should().BeApproximately(1, 1e-9);
        axes[0][1].Should().BeApproximately(2 / Math.Sqrt(5), 1e-9);
        axes[0][0].Should().BeApproximately(1 / Math.Sqrt(5), 1e-9);
    }
}
