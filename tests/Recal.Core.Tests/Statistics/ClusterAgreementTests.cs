using System.Text.Json;
using FluentAssertions;
using Recal.Statistics;
using Xunit;

namespace Recal.Core.Tests.Statistics;

/// <summary>Checks the adjusted Rand index and purity against scikit-learn (Fixtures/generate_cluster_agreement.py).</summary>
public sealed class ClusterAgreementTests
{
    private static readonly JsonElement Cases =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "cluster_agreement.json"))).RootElement.GetProperty("cases");

    [Fact]
    public void Adjusted_rand_index_and_purity_match_scikit_learn()
    {
        Cases.GetArrayLength().Should().BeGreaterThan(10);
        foreach (var c in Cases.EnumerateArray())
        {
            // Given true labels and a clustering
            var name = c.GetProperty("name").GetString();
            int[] truth = [.. c.GetProperty("truth").EnumerateArray().Select(x => x.GetInt32())];
            int[] predicted = [.. c.GetProperty("predicted").EnumerateArray().Select(x => x.GetInt32())];

            // Then the agreement is scikit-learn's
            ClusterAgreement.AdjustedRandIndex(truth, predicted).Should().BeApproximately(c.GetProperty("ari").GetDouble(), 1e-12, name);
            ClusterAgreement.Purity(truth, predicted).Should().BeApproximately(c.GetProperty("purity").GetDouble(), 1e-12, name);
        }
    }

    [Fact]
    public void Labels_of_any_type_agree_as_their_integer_codes_do()
    {
        // Given string labels and the same partition as integers
        string[] truth = ["refund", "refund", "cancel", "cancel", "reset"];
        string[] predicted = ["a", "b", "b", "b", "c"];

        // Then the index does not depend on how labels are spelled
        ClusterAgreement.AdjustedRandIndex(truth, predicted).Should().BeApproximately(ClusterAgreement.AdjustedRandIndex([0, 0, 1, 1, 2], [7, 8, 8, 8, 9]), 1e-15);
    }
}
