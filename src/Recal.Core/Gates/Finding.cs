namespace Recal.Gates;

/// <summary>What an instrument says of the eval set: one verdict per rule, the same wherever it is shown.</summary>
public enum Verdict
{
    /// <summary>Measured, and within the policy's thresholds.</summary>
    Healthy,

    /// <summary>Measured, and beyond a threshold: the score is not to be read without this gap.</summary>
    Drifting,

    /// <summary>Not measured: the data it needs is missing (no traffic, no run, no schedule yet).</summary>
    Unknown,
}

/// <summary>One instrument's verdict with its evidence and, unless healthy, the next step.</summary>
/// <param name="Instrument">Its name as shown: <c>intent mix</c>, <c>coverage</c>, <c>lifecycle</c>, <c>gold vs shadow</c>, ...</param>
/// <param name="Evidence">The figures behind the verdict, in words.</param>
/// <param name="Next">The commands that act on it; null when there is nothing to do.</param>
public sealed record Finding(string Instrument, Verdict Verdict, string Evidence, string? Next = null);
