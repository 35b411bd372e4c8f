using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text;

namespace Recal.Benchmarks;

/// <summary>
/// RECAL_BENCH_GCEVENTS=1: why the collector ran (each collection's generation and reason) and which types were
/// allocated, on the large-object heap and on the small one, from the runtime's own events, to tell what a peak working set is made of.
/// </summary>
internal sealed class GcEvents : EventListener
{
    private readonly ConcurrentDictionary<string, long> _collections = new();
    private readonly ConcurrentDictionary<string, long> _large = new();
    private readonly ConcurrentDictionary<string, long> _small = new();

    public static GcEvents? StartIfAsked() => Environment.GetEnvironmentVariable("RECAL_BENCH_GCEVENTS") == "1" ? new GcEvents() : null;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName == "GCStart_V2" && e.Payload is { } start)
        {
            var depth = Convert.ToInt32(start[e.PayloadNames!.IndexOf("Depth")], CultureInfo.InvariantCulture);
            var reason = Convert.ToInt32(start[e.PayloadNames.IndexOf("Reason")], CultureInfo.InvariantCulture);
            _collections.AddOrUpdate($"gen{depth} {Reason(reason)}", 1, (_, n) => n + 1);
        }
        else if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true && e.Payload is { } tick)
        {
            var kind = Convert.ToInt32(tick[e.PayloadNames!.IndexOf("AllocationKind")], CultureInfo.InvariantCulture);
            var type = tick[e.PayloadNames.IndexOf("TypeName")]?.ToString() ?? "?";
            var bytes = Convert.ToInt64(tick[e.PayloadNames.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
            (kind == 1 ? _large : _small).AddOrUpdate(type, bytes, (_, n) => n + bytes);
        }
    }

    public string Summary()
    {
        var text = new StringBuilder("collections by generation and reason: ");
        text.AppendJoin(", ", _collections.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"));
        text.Append("\nlarge-object allocations (sampled every ~100 KB): ");
        text.AppendJoin(", ", _large.OrderByDescending(p => p.Value).Take(8).Select(p => $"{p.Key} {p.Value / 1e6:N0} MB"));
        text.Append("\nsmall-object allocations by type (sampled every ~100 KB): ");
        text.AppendJoin(", ", _small.OrderByDescending(p => p.Value).Take(16).Select(p => $"{p.Key} {p.Value / 1e6:N0} MB"));
        return text.ToString();
    }

    private static string Reason(int reason) => reason switch
    {
        0 => "small allocation",
        1 => "induced",
        2 => "low memory",
        4 => "large allocation",
        5 => "out of space (SOH)",
        6 => "out of space (LOH)",
        _ => $"reason {reason}",
    };
}
