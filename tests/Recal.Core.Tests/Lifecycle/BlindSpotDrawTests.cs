using FluentAssertions;
using Recal.Drift;
using Recal.Lifecycle;
using Xunit;

namespace Recal.Core.Tests.Lifecycle;

public sealed class BlindSpotDrawTests
{
    [Fact]
    public void The_first_picks_spread_over_the_blind_spot_and_the_rest_follow_in_a_seeded_order()
    {
        // Given a blind spot of three tight groups on the unit circle: 20 traces near 0°, 20 near 120°, 20 near 240°
        var keys = new List<string>();
        var vectors = new List<float>();
        for (var group = 0; group < 3; group++)
        {
            for (var i = 0; i < 20; i++)
            {
                var angle = (group * 2 * Math.PI / 3) + (i * 0.001);
                keys.Add($"g{group}-{i:00}");
                vectors.AddRange([(float)Math.Cos(angle), (float)Math.Sin(angle)]);
            }
        }

        var members = new BlindSpotMembers(1, keys, [.. vectors], 2);

        // When it is ranked with three spread picks, twice with one seed and once with another
        var ranked = BlindSpotDraw.Rank(members, 3, seed: 7);
        var again = BlindSpotDraw.Rank(members, 3, seed: 7);
        var other = BlindSpotDraw.Rank(members, 3, seed: 8);

        // Then the three picks fall one in each group, every trace is ranked once, and the seed decides the order
        ranked.Take(3).Select(k => k[..2]).Should().BeEquivalentTo(["g0", "g1", "g2"]);
        ranked.Should().HaveCount(60).And.OnlyHaveUniqueItems().And.BeEquivalentTo(keys);
        again.Should().Equal(ranked);
        other.Should().NotEqual(ranked);
    }
}
