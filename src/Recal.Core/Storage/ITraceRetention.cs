namespace Recal.Storage;

/// <summary>
/// Retention of raw traces (docs/store.md#retention-of-raw-traces): the traces older than a cutoff are deleted with what
/// only they need (the rows that find a trace's parts), while the daily rollup and the keys stay, so the counts of
/// whole pruned days keep their values and a pruned trace sent again is not stored or counted a second time.
/// </summary>
public interface ITraceRetention
{
    /// <summary>
    /// What <see cref="PruneTracesAsync"/> with the same cutoff would delete now, deleting nothing: the traces, the UTC
    /// days and months they fall in, the partitions dropped whole where the store has them, and the bytes where the store
    /// can measure them.
    /// </summary>
    ValueTask<PruneSummary> PlanPruneAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes every stored trace with timestamp &lt; <paramref name="before"/> (rounded down to its UTC midnight: whole days
    /// go), in steps that each commit on their own, so writers wait for one step at most and a stop between steps keeps
    /// what the committed steps did (running it again finishes the rest). <paramref name="progress"/> hears the running
    /// total after each step. The cutoff is recorded (<see cref="GetPrunedBeforeAsync"/>) in the first step's transaction.
    /// </summary>
    ValueTask<PruneSummary> PruneTracesAsync(DateTimeOffset before, IProgress<PruneSummary>? progress = null, CancellationToken cancellationToken = default);

    /// <summary>The latest cutoff raw traces were pruned before (UTC midnight); null when the store was never pruned.</summary>
    ValueTask<DateTimeOffset?> GetPrunedBeforeAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// What a prune deletes (or, planned, would delete): <see cref="Traces"/> raw traces over <see cref="Days"/> UTC days,
/// in <see cref="Months"/> (<c>yyyy-MM</c>), of which <see cref="DroppedPartitions"/> are dropped whole (PostgreSQL's
/// month partitions; empty elsewhere); <see cref="Bytes"/> the space their rows take where the store can tell (null
/// otherwise).
/// </summary>
public sealed record PruneSummary(DateTimeOffset Before, long Traces, int Days, IReadOnlyList<string> Months, IReadOnlyList<string> DroppedPartitions, long? Bytes)
{
    /// <summary>A summary of nothing deleted before <paramref name="before"/>.</summary>
    public static PruneSummary Nothing(DateTimeOffset before) => new(before, 0, 0, [], [], null);
}

/// <summary>The rules every store's retention shares.</summary>
public static class Retention
{
    /// <summary>The blob key under which a store records its cutoff, in the transaction that first deletes before it.</summary>
    public const string PrunedBeforeBlob = "store:pruned-before";

    /// <summary>The version of that record's format.</summary>
    public const int FormatVersion = 1;

    /// <summary>A cutoff as stores apply it: rounded down to its UTC midnight, so the pruned past is whole days.</summary>
    public static DateTimeOffset Cutoff(DateTimeOffset before) =>
        DateTimeOffset.FromUnixTimeMilliseconds(TrafficDays.DayOf(before.ToUnixTimeMilliseconds()));

    /// <summary>The UTC month of <paramref name="ms"/> (Unix milliseconds) as <c>yyyy-MM</c>.</summary>
    public static string MonthOf(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The record of a cutoff: <c>{"format":1,"before":ms}</c>.</summary>
    public static byte[] Encode(DateTimeOffset before) =>
        System.Text.Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"format\":{FormatVersion},\"before\":{before.ToUnixTimeMilliseconds()}}}"));

    /// <summary>The cutoff a record holds; null when there is none or it cannot be read (a newer format: nothing is assumed pruned).</summary>
    public static DateTimeOffset? Decode(byte[]? record)
    {
        if (record is not { Length: > 0 })
        {
            return null;
        }

        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(record);
            return json.RootElement.TryGetProperty("format", out var format) && format.GetInt32() == FormatVersion && json.RootElement.TryGetProperty("before", out var before)
                ? DateTimeOffset.FromUnixTimeMilliseconds(before.GetInt64())
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The code of the note that a window's raw traces were pruned (the instrument then reads what is kept, or nothing).</summary>
    public const string PrunedCode = "RC3005";

    /// <summary>
    /// What an instrument that reads raw traces (<paramref name="instrument"/>: coverage, a draw, a search) says of the
    /// window [<paramref name="from"/>, <paramref name="to"/>) when raw traces before <paramref name="prunedBefore"/> were
    /// pruned: null when none of the window was; <paramref name="whole"/> when all of it was, so nothing is left to read.
    /// </summary>
    public static string? PrunedNote(DateTimeOffset? prunedBefore, DateTimeOffset from, DateTimeOffset to, string instrument, out bool whole)
    {
        whole = false;
        if (prunedBefore is not { } cutoff || from >= cutoff)
        {
            return null;
        }

        whole = to <= cutoff;
        var window = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{from:yyyy-MM-dd HH:mm} to {to:yyyy-MM-dd HH:mm} UTC");
        var kept = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{cutoff:yyyy-MM-dd}");
        return whole
            ? $"the raw traces of {window} were pruned (the store keeps them from {kept} on): {instrument} reads raw traces and has none to read there; the counts of those days are kept (recal drift, the timeline)"
            : $"the raw traces of {window} before {kept} were pruned: {instrument} reads the traces kept, from {kept} on";
    }

    /// <summary>A retention period written as whole days or weeks (<c>90d</c>, <c>12w</c>); false for anything else.</summary>
    public static bool TryParseDays(string text, out TimeSpan days)
    {
        ArgumentNullException.ThrowIfNull(text);
        days = default;
        var trimmed = text.Trim();
        if (trimmed.Length < 2 || trimmed[^1] is not ('d' or 'w') || !int.TryParse(trimmed.AsSpan(0, trimmed.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count) || count <= 0 || count > 36_500)
        {
            return false;
        }

        days = TimeSpan.FromDays(trimmed[^1] == 'w' ? count * 7.0 : count);
        return true;
    }

    /// <summary>The later of a recorded cutoff and a new one: a prune with an earlier cutoff does not move it back.</summary>
    public static DateTimeOffset Later(DateTimeOffset? recorded, DateTimeOffset cutoff) => recorded is { } r && r > cutoff ? r : cutoff;
}
