using FluentAssertions;
using Recal.Text;
using Xunit;

namespace Recal.Core.Tests;

public sealed class SpellingTests
{
    [Fact]
    public void Suggests_the_nearest_spelling_for_a_transposition()
    {
        Spelling.Nearest("intnet", ["intent", "cohort", "pool"]).Should().Be("intent");
    }

    [Fact]
    public void Suggests_nothing_when_no_candidate_is_close()
    {
        Spelling.Nearest("zzzzzz", ["intent", "cohort"]).Should().BeNull();
    }
}
