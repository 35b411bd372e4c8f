using System.Runtime.InteropServices;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Recal.Domain;

namespace Recal.Storage.Postgres;

/// <summary>Reading the traffic: counts grouped in the server, the anchored span, and scans streamed from the time index.</summary>
public sealed partial class PostgresStore
{
    /// <summary>The feedback aggregates every count reads, in the order <see cref="ReadFeedback"/> takes them.</summary>
    private const string FeedbackAggregates =
        "count(*), count(thumbs), count(*) FILTER (WHERE thumbs > 0), count(*) FILTER (WHERE escalated), count(escalated)";

    /// <summary><see cref="FeedbackAggregates"/>, each times <c>s.sign</c>: a part added to its segment (1) or taken from it (−1).</summary>
    private static readonly string SignedFeedbackAggregates = string.Join(", ", FeedbackAggregates.Split(", ").Select(a => "s.sign * " + a));

    /// <summary>
    /// One statement (one snapshot): the whole days of the window summed from the daily rollup, the parts of a day at
    /// its ends grouped from the time index (a part longer than half its day as the day less the rest,
    /// <see cref="TrafficDays.Reading"/>), the buckets <c>date_trunc</c> in UTC (ISO weeks start on Monday, as
    /// <see cref="PeriodMath"/>'s).
    /// </summary>
    public async ValueTask<IReadOnlyList<TrafficCount>> CountTrafficAsync(TrafficQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        string Bucket(string column) => query.Period switch
        {
            Period.None => "NULL::timestamptz",
            Period.Day => $"date_trunc('day', {column}, 'UTC')",
            Period.Week => $"date_trunc('week', {column}, 'UTC')",
            Period.Month => $"date_trunc('month', {column}, 'UTC')",
            _ => throw new ArgumentOutOfRangeException(nameof(query), query.Period, "unknown period"),
        };
        // A part of a day longer than half of it is the day less the rest (TrafficDays.Reading): each bucket holds whole days.
        var prunedBefore = await PrunedBeforeMsAsync(cancellationToken).ConfigureAwait(false);
        var reading = TrafficDays.Reading(query.From?.ToUnixTimeMilliseconds() ?? long.MinValue, query.To?.ToUnixTimeMilliseconds() ?? long.MaxValue, prunedBefore);
        var parameters = new List<NpgsqlParameter>();
        var parts = new List<string>();
        foreach (var sign in new[] { 1, -1 })
        {
            var ends = reading.Parts.Where(e => e.Sign == sign).Select(e => Between("ts", e.From, e.To, parameters)).ToList();
            if (ends.Count > 0)
            {
                parts.Add($"SELECT {Bucket("ts")} AS b, intent, cohort, {(sign < 0 ? "-" : string.Empty)}count(*) AS n FROM traces WHERE {string.Join(" OR ", ends)} GROUP BY 1, 2, 3");
            }
        }

        if (reading.HasDays)
        {
            parts.Add($"SELECT {Bucket("day")}, intent, cohort, sum(traces) FROM traffic_days WHERE {Between("day", reading.DaysFrom, reading.DaysTo, parameters)} GROUP BY 1, 2, 3");
        }

        if (parts.Count == 0)
        {
            return [];
        }

        var counts = new List<TrafficCount>();
        await ReadGroupedAsync(
            $"SELECT b, intent, cohort, sum(n)::bigint FROM ({string.Join(" UNION ALL ", parts)}) AS c (b, intent, cohort, n) GROUP BY 1, 2, 3 HAVING sum(n) > 0",
            r => counts.Add(new TrafficCount(r.IsDBNull(0) ? null : r.GetFieldValue<DateTimeOffset>(0), r.GetString(1), r.GetString(2), r.GetInt64(3))),
            cancellationToken,
            [.. parameters]).ConfigureAwait(false);
        // Ordered here, by ordinal comparison, whatever the database's collation.
        return [.. counts.OrderBy(c => c.BucketStart).ThenBy(c => c.Intent, StringComparer.Ordinal).ThenBy(c => c.CohortKey, StringComparer.Ordinal)];
    }

    /// <summary>lo ≤ <paramref name="column"/> &lt; hi (Unix milliseconds; <see cref="long.MinValue"/> and <see cref="long.MaxValue"/> are open), its parameters added to <paramref name="parameters"/>.</summary>
    private static string Between(string column, long lo, long hi, List<NpgsqlParameter> parameters)
    {
        var conditions = new List<string>();
        if (lo != long.MinValue)
        {
            parameters.Add(Parameter(DateTimeOffset.FromUnixTimeMilliseconds(lo), NpgsqlDbType.TimestampTz));
            conditions.Add($"{column} >= ${parameters.Count}");
        }

        if (hi != long.MaxValue)
        {
            parameters.Add(Parameter(DateTimeOffset.FromUnixTimeMilliseconds(hi), NpgsqlDbType.TimestampTz));
            conditions.Add($"{column} < ${parameters.Count}");
        }

        return conditions.Count == 0 ? "TRUE" : $"({string.Join(" AND ", conditions)})";
    }

    /// <summary>The online signals of a window: the sum of its cells (<see cref="CountFeedbackBySegmentsAsync"/>).</summary>
    public async ValueTask<FeedbackCount> CountFeedbackAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        (await CountFeedbackBySegmentsAsync([(from, to)], cancellationToken).ConfigureAwait(false))[0].Aggregate(default(FeedbackCount), (sum, cell) => sum.Plus(cell.Count));

    public async ValueTask<IReadOnlyList<FeedbackCell>> CountFeedbackByCellAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        (await CountFeedbackBySegmentsAsync([(from, to)], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// One statement for every segment (one snapshot): the whole days of each summed from the daily rollup, the parts
    /// of a day at its ends joined to the time index (<see cref="TrafficDays.Reading"/>: a part longer than half its day
    /// read as the day less the rest of it), grouped by segment, intent and cohort. The segments ascend and do
    /// not overlap, so each rollup row finds its segment by <c>width_bucket</c> over the segments' first days (a gap
    /// between segments is told by the bucket's last day) in one pass over the rows between the first and last day:
    /// joining every row to every segment's bounds cost a nested loop of rows × segments.
    /// </summary>
    public async ValueTask<IReadOnlyList<IReadOnlyList<FeedbackCell>>> CountFeedbackBySegmentsAsync(IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> segments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var cells = segments.Select(_ => new List<FeedbackCell>()).ToArray();
        if (segments.Count == 0)
        {
            return cells;
        }

        // A part of a day longer than half of it is the day less the rest: at most half a day of traces at each end.
        var prunedBefore = await PrunedBeforeMsAsync(cancellationToken).ConfigureAwait(false);
        var ends = new List<(long From, long To, long Segment, int Sign)>();
        var days = new List<(long From, long To, long Segment)>();
        var previousTo = long.MinValue;
        for (var i = 0; i < segments.Count; i++)
        {
            var (from, to) = (segments[i].From.ToUnixTimeMilliseconds(), segments[i].To.ToUnixTimeMilliseconds());
            if (to < from || (i > 0 && from < previousTo))
            {
                throw new ArgumentException("segments must be ascending and must not overlap", nameof(segments));
            }

            previousTo = to;
            var reading = TrafficDays.Reading(from, to, prunedBefore);
            ends.AddRange(reading.Parts.Select(e => (e.From, e.To, (long)i + 1, e.Sign)));
            if (reading.HasDays)
            {
                days.Add((reading.DaysFrom, reading.DaysTo, i + 1));
            }
        }

        static NpgsqlParameter Times(IEnumerable<long> ms) => Parameter(ms.Select(DateTimeOffset.FromUnixTimeMilliseconds).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz);
        static NpgsqlParameter Numbers(IEnumerable<long> n) => Parameter(n.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint);
        // The parts and the days of a segment are added up here, cell by cell: a regrouping in the statement sorted them all.
        var sums = segments.Select(_ => new Dictionary<(string Intent, string Cohort), FeedbackCount>()).ToArray();
        await ReadGroupedAsync(
            $"""
            SELECT s.n, intent, cohort, {SignedFeedbackAggregates}
            FROM unnest($1::timestamptz[], $2::timestamptz[], $3::bigint[], $7::bigint[]) AS s(lo, hi, n, sign)
            JOIN traces ON ts >= s.lo AND ts < s.hi
            GROUP BY s.n, s.sign, intent, cohort
            UNION ALL
            SELECT ($6::bigint[])[b], intent, cohort, sum(traces)::bigint, sum(rated)::bigint, sum(up)::bigint, sum(escalated)::bigint, sum(escalation_known)::bigint
            FROM (SELECT width_bucket(day, $4::timestamptz[]) AS b, * FROM traffic_days WHERE day >= ($4::timestamptz[])[1] AND day < ($5::timestamptz[])[cardinality($5::timestamptz[])]) AS d
            WHERE b > 0 AND day < ($5::timestamptz[])[b]
            GROUP BY b, intent, cohort
            """,
            r =>
            {
                ref var sum = ref CollectionsMarshal.GetValueRefOrAddDefault(sums[(int)r.GetInt64(0) - 1], (r.GetString(1), r.GetString(2)), out _);
                sum = sum.Plus(ReadFeedback(r, 3));
            },
            cancellationToken,
            Times(ends.Select(e => e.From)),
            Times(ends.Select(e => e.To)),
            Numbers(ends.Select(e => e.Segment)),
            Times(days.Select(d => d.From)),
            Times(days.Select(d => d.To)),
            Numbers(days.Select(d => d.Segment)),
            Numbers(ends.Select(e => (long)e.Sign))).ConfigureAwait(false);
        for (var i = 0; i < sums.Length; i++)
        {
            cells[i].AddRange(sums[i]
                .Where(c => c.Value.Traces > 0)
                .OrderBy(c => c.Key.Intent, StringComparer.Ordinal).ThenBy(c => c.Key.Cohort, StringComparer.Ordinal)
                .Select(c => new FeedbackCell(c.Key.Intent, c.Key.Cohort, c.Value)));
        }

        return cells;
    }

    public async ValueTask<IReadOnlyList<ModelFeedbackCell>> CountFeedbackByModelAsync(IReadOnlyCollection<string> models, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        var cells = new List<ModelFeedbackCell>();
        if (models.Count == 0)
        {
            return cells;
        }

        await ReadAsync(
            $"""
            SELECT model, intent, cohort, {FeedbackAggregates},
                count(continued), count(*) FILTER (WHERE continued), count(completed), count(*) FILTER (WHERE completed), min(ts), max(ts)
            FROM traces WHERE model = ANY($1) GROUP BY model, intent, cohort
            """,
            r => cells.Add(new ModelFeedbackCell(
                r.GetString(0),
                r.GetString(1),
                r.GetString(2),
                ReadFeedback(r, 3) with { ContinuedKnown = r.GetInt64(8), Continued = r.GetInt64(9), CompletedKnown = r.GetInt64(10), Completed = r.GetInt64(11) },
                r.GetFieldValue<DateTimeOffset>(12),
                r.GetFieldValue<DateTimeOffset>(13))),
            cancellationToken,
            Parameter(models.Distinct(StringComparer.Ordinal).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)).ConfigureAwait(false);
        return cells;
    }

    /// <summary><see cref="FeedbackAggregates"/> from column <paramref name="first"/> on.</summary>
    private static FeedbackCount ReadFeedback(NpgsqlDataReader reader, int first) =>
        new(reader.GetInt64(first), reader.GetInt64(first + 1), reader.GetInt64(first + 2), reader.GetInt64(first + 3)) { EscalationKnown = reader.GetInt64(first + 4) };

    /// <summary>
    /// The anchored span (each step a MIN, MAX and COUNT over a range of the time index), computed again only when a
    /// writer (this store or another process) has changed the traces since: every write counts itself in <c>trace_changes</c>.
    /// </summary>
    public async ValueTask<TrafficSpan?> GetTrafficSpanAsync(CancellationToken cancellationToken = default)
    {
        long version = 0;
        await ReadAsync("SELECT version FROM trace_changes", r => version = r.GetInt64(0), cancellationToken).ConfigureAwait(false);
        if (_span is { } known && known.Version == version)
        {
            return known.Span;
        }

        // A prune bumps the change count too, so the cutoff read here holds for every step of the anchoring.
        var prunedBefore = await PrunedBeforeMsAsync(cancellationToken).ConfigureAwait(false);
        var span = await TrafficAnchoring.AnchorAsync((from, to, ct) => SpanOfAsync(from, to, prunedBefore, ct), cancellationToken).ConfigureAwait(false);
        _span = new CachedSpan(version, span);
        return span;
    }

    /// <summary>The anchored span as last computed, and the change count it was computed at.</summary>
    private sealed record CachedSpan(long Version, TrafficSpan? Span);

    /// <summary>
    /// One statement: the first and last timestamps (each one descent of the time index per partition) and the count,
    /// whole days summed from the daily rollup and the parts of a day at the ends counted in the time index. Days before
    /// <paramref name="prunedBefore"/> are known by the rollup alone: their traffic spans the day, midnight to its end.
    /// </summary>
    private async ValueTask<TrafficSpan?> SpanOfAsync(DateTimeOffset? from, DateTimeOffset? to, long? prunedBefore, CancellationToken cancellationToken)
    {
        var (lo, hi) = (from?.ToUnixTimeMilliseconds() ?? long.MinValue, to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        var split = TrafficDays.Split(lo, hi);
        var parameters = new List<NpgsqlParameter>();
        var window = Between("ts", lo, hi, parameters);
        var ends = split.Ends.Select(e => Between("ts", e.From, e.To, parameters)).ToList();
        var endCount = ends.Count == 0 ? "0" : $"(SELECT count(*) FROM traces WHERE {string.Join(" OR ", ends)})";
        var dayCount = split.HasDays ? $"(SELECT coalesce(sum(traces), 0) FROM traffic_days WHERE {Between("day", split.DaysFrom, split.DaysTo, parameters)})" : "0";
        var prunedDays = prunedBefore is { } p && split.HasDays && split.DaysFrom < p
            ? $"(SELECT min(day) FROM traffic_days WHERE traces > 0 AND {Between("day", split.DaysFrom, Math.Min(split.DaysTo, p), parameters)}), (SELECT max(day) FROM traffic_days WHERE traces > 0 AND {Between("day", split.DaysFrom, Math.Min(split.DaysTo, p), parameters)})"
            : "NULL::timestamptz, NULL::timestamptz";
        TrafficSpan? span = null;
        await ReadAsync(
            $"SELECT (SELECT min(ts) FROM traces WHERE {window}), (SELECT max(ts) FROM traces WHERE {window}), ({endCount} + {dayCount})::bigint, {prunedDays}",
            r =>
            {
                DateTimeOffset? first = r.IsDBNull(0) ? null : r.GetFieldValue<DateTimeOffset>(0), last = r.IsDBNull(1) ? null : r.GetFieldValue<DateTimeOffset>(1);
                if (!r.IsDBNull(3))
                {
                    var (day, lastDay) = (r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4).AddMilliseconds(TrafficDays.DayMs - 1));
                    (first, last) = (first is { } f && f < day ? f : day, last is { } l && l > lastDay ? l : lastDay);
                }

                span = first is null ? null : new TrafficSpan(first.Value, last!.Value, r.GetInt64(2));
            },
            cancellationToken,
            [.. parameters]).ConfigureAwait(false);
        return span;
    }

    public async ValueTask ScanTracesAsync(DateTimeOffset? from, DateTimeOffset? to, Action<ClassifiedTrace> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        var (where, parameters) = Window(from, to);
        await ReadAsync($"SELECT {TraceColumns} FROM traces {where} ORDER BY ts, id", r => visit(ReadTrace(r)), cancellationToken, parameters).ConfigureAwait(false);
    }

    /// <summary>Without keys the time index covers the query (an index-only scan): no table row is read.</summary>
    public async ValueTask ScanTraceHeadsAsync(DateTimeOffset? from, DateTimeOffset? to, bool withKeys, Action<TraceHead> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        var (where, parameters) = Window(from, to);
        await ReadAsync(
            $"SELECT id, ts, intent, cohort, sample_priority{(withKeys ? ", key" : string.Empty)} FROM traces {where}",
            r => visit(new TraceHead(r.GetInt64(0), r.GetFieldValue<DateTimeOffset>(1), r.GetString(2), r.GetString(3), unchecked((ulong)r.GetInt64(4)), withKeys ? r.GetString(5) : null)),
            cancellationToken,
            parameters).ConfigureAwait(false);
    }

    /// <summary>The index on (intent, priority) answers <see cref="ScanLowestHeadsAsync"/> (migration 5).</summary>
    public bool ChoosesLowestHeads => true;

    /// <summary>
    /// One statement: for each intent, the first rows of its range of the (intent, priority) index within the window,
    /// in the partitions the window overlaps; an intent costs its limit, not its traffic. The priority is stored as a
    /// signed bigint; the index orders it with its sign bit flipped, which is the unsigned order. Each head carries its
    /// text's hash, computed by the database from the stored text and kept in the index (migration 9).
    /// </summary>
    public async ValueTask ScanLowestHeadsAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyDictionary<string, int> limits, Action<TraceHead> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(visit);
        var intents = limits.Where(l => l.Value > 0).ToList();
        if (intents.Count == 0 || to <= from)
        {
            return;
        }

        await ReadAsync(
            """
            SELECT h.id, h.ts, h.intent, h.cohort, h.sample_priority, h.text_hash
            FROM unnest($1::text[], $2::integer[]) AS c (intent, k)
            CROSS JOIN LATERAL (
                SELECT t.id, t.ts, t.intent, t.cohort, t.sample_priority, t.text_hash FROM traces AS t
                WHERE t.intent = c.intent AND t.ts >= $3 AND t.ts < $4
                ORDER BY t.sample_priority # x'8000000000000000'::bigint, t.id
                LIMIT c.k
            ) AS h
            """,
            r => visit(new TraceHead(r.GetInt64(0), r.GetFieldValue<DateTimeOffset>(1), r.GetString(2), r.GetString(3), unchecked((ulong)r.GetInt64(4)), TextHash: HashOf(r.GetGuid(5)))),
            cancellationToken,
            Parameter(intents.Select(c => c.Key).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text),
            Parameter(intents.Select(c => c.Value).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer),
            Parameter(Milliseconds(from), NpgsqlDbType.TimestampTz),
            Parameter(Milliseconds(to), NpgsqlDbType.TimestampTz)).ConfigureAwait(false);
    }

    /// <summary>The columns a draw needs, streamed; the text is encoded to UTF-8 in buffers reused row after row.</summary>
    public async ValueTask ScanSampleRowsAsync(DateTimeOffset? from, DateTimeOffset? to, SampleRowVisitor visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        var (where, parameters) = Window(from, to);
        var buffers = new Utf8Buffers();
        await ReadAsync(
            $"SELECT id, key, intent, cohort, sample_priority, input_text, metadata_json FROM traces {where}",
            r => buffers.Visit(r, visit),
            cancellationToken,
            parameters).ConfigureAwait(false);
    }

    /// <summary>The columns a trace search filters on, streamed; key and text encoded to UTF-8 in buffers reused row after row.</summary>
    public async ValueTask ScanSearchRowsAsync(DateTimeOffset? from, DateTimeOffset? to, SearchRowVisitor visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        var (where, parameters) = Window(from, to);
        var buffers = new Utf8Buffers();
        await ReadAsync(
            $"SELECT id, key, ts, intent, cohort, intent_source, confidence, thumbs, csat, escalated, continued, completed, follow_up, input_text FROM traces {where}",
            r => buffers.Visit(r, visit),
            cancellationToken,
            parameters).ConfigureAwait(false);
    }

    /// <summary>One query by row id; a row whose key is not the one named (the position was reused) is left out.</summary>
    public async ValueTask<IReadOnlyList<ClassifiedTrace>> GetTracesAsync(IReadOnlyCollection<TraceRef> traces, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traces);
        var found = new List<ClassifiedTrace>(traces.Count);
        if (traces.Count == 0)
        {
            return found;
        }

        var wanted = traces.Select(t => t with { Key = Text(t.Key) }).ToHashSet();
        await ReadAsync(
            $"SELECT id, {TraceColumns} FROM traces WHERE id = ANY($1)",
            r =>
            {
                var trace = ReadTrace(r, 1);
                if (wanted.Contains(new TraceRef(trace.Key, r.GetInt64(0))))
                {
                    found.Add(trace);
                }
            },
            cancellationToken,
            Parameter(wanted.Select(t => t.Position).Distinct().ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)).ConfigureAwait(false);
        return found;
    }

    /// <summary>One query on <c>trace_keys</c>, each key's trace read in its own partition.</summary>
    public async ValueTask<IReadOnlyList<ClassifiedTrace>> FindTracesAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new List<ClassifiedTrace>(keys.Count);
        if (keys.Count == 0)
        {
            return found;
        }

        await ReadAsync(
            $"SELECT {TraceColumnsOfT} FROM {StoredKeysOfArray} {TraceOfStoredKey(TraceColumnsOfT, left: false)}",
            r => found.Add(ReadTrace(r, 0)),
            cancellationToken,
            Parameter(keys.Select(Text).Distinct(StringComparer.Ordinal).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)).ConfigureAwait(false);
        return found;
    }

    /// <summary>
    /// The heads grouped by the month partition their timestamps fall in, each group read by its ids in runs of at most
    /// <see cref="HeadTextsPerQuery"/>: <c>id = ANY(ids)</c> with the month's bounds, one descent of that partition's
    /// primary key per id (about half the server time of joining each (id, timestamp) pair laterally, which prunes
    /// partitions row by row). Up to <see cref="HeadTextQueries"/> runs are read side by side, each on its own
    /// connection, so the look-ups use more than one of the server's cores.
    /// </summary>
    public async ValueTask<IReadOnlyDictionary<long, TraceText>> GetHeadTextsAsync(IReadOnlyCollection<TraceHead> heads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heads);
        var runs = new List<(DateTimeOffset From, DateTimeOffset To, long[] Ids)>();
        foreach (var month in heads.GroupBy(h => (h.Timestamp.UtcDateTime.Year, h.Timestamp.UtcDateTime.Month)))
        {
            var ids = month.Select(h => h.Position).Distinct().ToArray();
            Array.Sort(ids);
            var from = new DateTimeOffset(month.Key.Year, month.Key.Month, 1, 0, 0, 0, TimeSpan.Zero);
            for (var start = 0; start < ids.Length; start += HeadTextsPerQuery)
            {
                runs.Add((from, from.AddMonths(1), ids[start..Math.Min(ids.Length, start + HeadTextsPerQuery)]));
            }
        }

        var parts = new Dictionary<long, TraceText>[runs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, runs.Count), new ParallelOptions { MaxDegreeOfParallelism = HeadTextQueries, CancellationToken = cancellationToken }, async (run, ct) =>
        {
            var (from, to, ids) = runs[run];
            var texts = new Dictionary<long, TraceText>(ids.Length);
            await ReadAsync(
                "SELECT id, key, input_text FROM traces WHERE ts >= $1 AND ts < $2 AND id = ANY($3)",
                r => texts[r.GetInt64(0)] = new TraceText(r.GetString(1), r.GetString(2)),
                ct,
                Parameter(from, NpgsqlDbType.TimestampTz),
                Parameter(to, NpgsqlDbType.TimestampTz),
                Parameter(ids, NpgsqlDbType.Array | NpgsqlDbType.Bigint)).ConfigureAwait(false);
            parts[run] = texts;
        }).ConfigureAwait(false);
        if (parts.Length == 1)
        {
            return parts[0];
        }

        var all = new Dictionary<long, TraceText>(parts.Sum(p => p.Count));
        foreach (var (position, text) in parts.SelectMany(p => p))
        {
            all[position] = text;
        }

        return all;
    }

    /// <summary>The head-text queries one call makes at most, side by side.</summary>
    internal const int HeadTextQueries = 4;

    /// <summary>The ids one head-text query reads at most.</summary>
    internal const int HeadTextsPerQuery = 16_384;

    public async ValueTask<IReadOnlyDictionary<long, TraceText>> GetClassificationTextsAsync(IReadOnlyCollection<long> positions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var texts = new Dictionary<long, TraceText>(positions.Count);
        if (positions.Count == 0)
        {
            return texts;
        }

        await ReadAsync(
            "SELECT id, key, input_text FROM traces WHERE id = ANY($1)",
            r => texts[r.GetInt64(0)] = new TraceText(r.GetString(1), r.GetString(2)),
            cancellationToken,
            Parameter(positions.Distinct().ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)).ConfigureAwait(false);
        return texts;
    }

    /// <summary>One query on <c>trace_keys</c>, each key's trace read in its partition: a trace with an id is keyed <c>id:</c> and the id.</summary>
    public async ValueTask<IReadOnlyDictionary<string, string>> GetTraceOutputsAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traceIds);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (traceIds.Count == 0)
        {
            return outputs;
        }

        // By the key as stored (U+0000 kept as U+FFFD), back to the id asked for.
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in traceIds)
        {
            ids.TryAdd(Text(Ingest.TraceKeys.IdPrefix + id), id);
        }

        await ReadAsync(
            $"SELECT k.key, t.output FROM {StoredKeysOfArray} {TraceOfStoredKey("t.output", left: false)} WHERE t.output IS NOT NULL",
            r => outputs[ids[r.GetString(0)]] = r.GetString(1),
            cancellationToken,
            Parameter(ids.Keys.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)).ConfigureAwait(false);
        return outputs;
    }

    /// <summary>The WHERE clause of from ≤ ts &lt; to (a null bound is open) and its parameters, numbered from $1.</summary>
    private static (string Where, NpgsqlParameter[] Parameters) Window(DateTimeOffset? from, DateTimeOffset? to)
    {
        var conditions = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        if (from is { } lo)
        {
            parameters.Add(Parameter(Milliseconds(lo), NpgsqlDbType.TimestampTz));
            conditions.Add($"ts >= ${parameters.Count}");
        }

        if (to is { } hi)
        {
            parameters.Add(Parameter(Milliseconds(hi), NpgsqlDbType.TimestampTz));
            conditions.Add($"ts < ${parameters.Count}");
        }

        return (conditions.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", conditions), [.. parameters]);
    }

    /// <summary>The UTF-8 of a sample row's key, text and metadata, in buffers that grow as needed and are reused.</summary>
    private sealed class Utf8Buffers
    {
        private byte[] _key = new byte[256];
        private byte[] _input = new byte[4096];
        private byte[] _metadata = new byte[1024];

        public void Visit(NpgsqlDataReader reader, SampleRowVisitor visit)
        {
            var key = Encode(reader.GetString(1), ref _key);
            var input = Encode(reader.GetString(5), ref _input);
            var metadata = reader.IsDBNull(6) ? default : Encode(reader.GetString(6), ref _metadata);
            visit(new SampleRow(reader.GetInt64(0), key, reader.GetString(2), reader.GetString(3), unchecked((ulong)reader.GetInt64(4)), input, metadata));
        }

        public void Visit(NpgsqlDataReader reader, SearchRowVisitor visit)
        {
            var feedback = new Feedback(
                reader.IsDBNull(7) ? null : reader.GetInt32(7),
                reader.IsDBNull(8) ? null : reader.GetDouble(8),
                NullableBool(reader, 9),
                NullableBool(reader, 10),
                NullableBool(reader, 11),
                NullableBool(reader, 12));
            var key = Encode(reader.GetString(1), ref _key);
            var input = Encode(reader.GetString(13), ref _input);
            visit(new SearchRow(reader.GetInt64(0), key, reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3), reader.GetString(4), (IntentSource)reader.GetInt16(5), reader.GetDouble(6), feedback == Feedback.None ? Feedback.None : feedback, input));
        }

        private static ReadOnlySpan<byte> Encode(string text, ref byte[] buffer)
        {
            var needed = Encoding.UTF8.GetMaxByteCount(text.Length);
            if (buffer.Length < needed)
            {
                buffer = new byte[Math.Max(needed, buffer.Length * 2)];
            }

            return buffer.AsSpan(0, Encoding.UTF8.GetBytes(text, buffer));
        }
    }
}
