using FluentAssertions;
using Recal.Reporting.Runs;
using Recal.Running;
using Xunit;

namespace Recal.Reporting.Tests;

public sealed class RunProgressTextTests
{
    [Fact]
    public void Cases_from_the_cache_and_resumed_ones_are_named_and_left_out_of_the_rate()
    {
        // Given 898 cases, 100 stored by an earlier process, 600 answered from the cache and 37 by calls in 10 s
        var progress = new RunProgress(737, 898, 600, 0) { Resumed = 100, Cached = 600 };

        // When it is described
        var text = RunProgressText.Describe(progress, TimeSpan.FromSeconds(10));

        // Then the rate is the calls' (3.7/s) and the time left assumes the 161 cases left need calls
        text.Should().Be("737/898 cases (600 from the cache, 100 resumed), 3.7 calls/s, ETA 00:00:43, pass 81.4%, errors 0");
    }

    [Fact]
    public void A_run_answered_wholly_from_the_cache_ends_at_zero_and_one_without_a_call_yet_has_no_rate_instead_of_zero()
    {
        RunProgressText.Describe(new RunProgress(898, 898, 700, 0) { Cached = 898 }, TimeSpan.FromSeconds(2))
            .Should().Be("898/898 cases (898 from the cache), no call yet, ETA 00:00:00, pass 78.0%, errors 0");
        RunProgressText.Describe(new RunProgress(737, 898, 600, 2) { Cached = 737 }, TimeSpan.FromSeconds(2))
            .Should().Be("737/898 cases (737 from the cache), no call yet, ETA --:--:--, pass 81.6%, errors 2");
    }
}
