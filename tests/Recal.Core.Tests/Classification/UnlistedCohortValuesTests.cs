using FluentAssertions;
using Recal.Classification;
using Recal.Domain;
using Xunit;

namespace Recal.Core.Tests.Classification;

public sealed class UnlistedCohortValuesTests
{
    private static readonly Taxonomy Taxonomy = new(
        1,
        [],
        [new CohortDimension("plan", "plan", ["free", "pro"], "unknown"), new CohortDimension("region", "region", [], "none")],
        ClassifierSettings.Auto);

    [Fact]
    public void Values_the_taxonomy_does_not_list_are_stored_as_missing_and_counted_by_name()
    {
        var resolver = new CohortResolver(Taxonomy);
        string Key(string? plan) => resolver.Key(plan is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["plan"] = plan, ["region"] = "eu" });

        Key("enterprise").Should().Be("plan=unknown|region=eu");
        Key("enterprise");
        Key("trial");
        Key("pro").Should().Be("plan=pro|region=eu");
        Key(null).Should().Be("plan=unknown|region=none");

        // An absent field is missing, not unlisted; a dimension without listed values takes any value.
        var unlisted = resolver.Unlisted().Should().ContainSingle().Subject;
        unlisted.Dimension.Name.Should().Be("plan");
        unlisted.Traces.Should().Be(3);
        unlisted.Values.Should().Equal(("enterprise", 2L), ("trial", 1L));
        unlisted.Distinct.Should().Be(2);
    }

    [Fact]
    public void Distinct_unlisted_values_are_told_apart_up_to_a_bound_and_all_counted()
    {
        var resolver = new CohortResolver(Taxonomy);
        for (var i = 0; i < CohortResolver.MaxUnlistedValues + 50; i++)
        {
            resolver.Key(new Dictionary<string, string> { ["plan"] = $"user-{i}" });
        }

        var unlisted = resolver.Unlisted().Single();
        unlisted.Traces.Should().Be(CohortResolver.MaxUnlistedValues + 50);
        unlisted.Distinct.Should().Be(CohortResolver.MaxUnlistedValues);
    }
}
