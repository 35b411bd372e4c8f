using System.Globalization;
using System.Text;
using Recal.Domain;

namespace Recal.Project;

/// <summary>Writes the sampling policy as plain language: what a new engineer reads to know how the set is drawn.</summary>
public static class PolicyNarrator
{
    public static string Describe(SamplingPolicy policy, Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(taxonomy);
        var text = new StringBuilder();
        var strata = policy.Strata;
        text.Append(CultureInfo.InvariantCulture, $"Sampling policy version {policy.Version}.");
        if (!string.IsNullOrWhiteSpace(policy.Description))
        {
            text.Append(' ').Append(policy.Description.Trim().TrimEnd('.')).Append('.');
        }

        var sizeFloors = FloorsRaise(policy, taxonomy, policy.Size);
        text.Append(CultureInfo.InvariantCulture, $" The eval set holds {policy.Size:N0} cases{(sizeFloors.Length == 0 ? string.Empty : $" ({sizeFloors})")} drawn from the last {Duration(policy.TrafficWindow)} of traffic, stratified by {Join(strata.By.Select(b => b == "intent" ? $"intent ({taxonomy.Intents.Count} in the taxonomy)" : $"cohort '{b}'"))}.");

        var listed = strata.Weights.OrderBy(w => w.Key, StringComparer.Ordinal).Select(w => $"{w.Key} at {Percent(w.Value)}").ToList();
        var rest = strata.Default switch
        {
            DefaultWeighting.Traffic => "a share in proportion to its traffic",
            DefaultWeighting.Equal => "an equal share",
            _ => "nothing",
        };
        text.Append(listed.Count == 0
            ? $" Each stratum gets {rest}."
            : strata.Default == DefaultWeighting.None
                ? $" Only the listed strata are drawn, with fixed weights: {Join(listed)}."
                : $" Fixed weights apply to {Join(listed)}; every other stratum shares the remaining {Percent(1 - strata.Weights.Values.Sum())}, each getting {rest}.");
        text.Append(strata.Floor > 0
            ? $" Every stratum seen in traffic keeps at least {strata.Floor} case{(strata.Floor == 1 ? "" : "s")}, so the tail never vanishes."
            : " There is no floor: a stratum rare in traffic may get no case at all.");

        var exclusions = policy.Exclusions;
        var excluded = new List<string>();
        if (exclusions.Patterns.Count > 0)
        {
            excluded.Add(exclusions.Patterns.Count == 1 ? "its input matches the personal-data pattern" : $"its input matches one of {exclusions.Patterns.Count} personal-data patterns");
        }

        excluded.AddRange(exclusions.Metadata.Select(m => $"its {m.Key} is {Join(m.Value, "or")}"));
        excluded.Add($"it is at least {Percent(exclusions.NearDuplicateSimilarity)} similar to a case already in the set");
        if (exclusions.MinInputChars > 0)
        {
            excluded.Add($"its input is shorter than {exclusions.MinInputChars} character{(exclusions.MinInputChars == 1 ? "" : "s")}");
        }

        text.Append(" A trace is never drawn when ").Append(Join(excluded, "or")).Append('.');

        var holdoutFloors = FloorsRaise(policy, taxonomy, policy.HoldoutSize);
        text.Append(policy.HoldoutFraction > 0
            ? $" The holdout is a draw of its own, {Percent(policy.HoldoutFraction)} of the size ({policy.HoldoutSize:N0} cases{(holdoutFloors.Length == 0 ? string.Empty : "; " + holdoutFloors)}) by the same strata and rules: it is drawn at every rotation, every {Duration(policy.RotationCadence)} (recal rotate, or recal sample --pool holdout), labelled, and sealed once labelled (recal holdout seal); nobody tunes against it, and it is read only when it rotates into gold. Draws for gold and shadow seal nothing."
            : " No holdout is kept, so overfitting to the set cannot be measured.");
        text.Append(CultureInfo.InvariantCulture, $" A fresh shadow set is drawn from recent traffic every {Duration(policy.RefreshCadence)}.");
        text.Append(CultureInfo.InvariantCulture, $" A stratum first seen in shadow is promoted into gold once it has held at least {Percent(policy.Promotion.MinWeight)} of traffic for {policy.Promotion.Cycles} consecutive cycle{(policy.Promotion.Cycles == 1 ? "" : "s")}; a one-off spike is not.");

        var retire = new List<string> { $"no traffic has matched their pattern for {policy.Retirement.UnmatchedCycles} cycles" };
        if (policy.Retirement.RetireExpired)
        {
            retire.Add("they are past their valid_until date (their right answer may have changed)");
        }

        if (policy.Retirement.RetireNewlyPassing)
        {
            retire.Add("they newly pass after a model upgrade");
        }

        text.Append(" Cases become retirement candidates when ").Append(Join(retire, "or")).Append('.');

        var alarms = policy.Alarms;
        text.Append(CultureInfo.InvariantCulture,
            $" Drift alarms compare each window of traffic with the reference window (the first {Duration(policy.TrafficWindow)} of stored traffic) and fire only on a change beyond what the reference's own variability explains at the window's size, at a {Percent(alarms.FalseAlarmRate)} chance per window that unchanged traffic raises any alarm, and at least as large as its minimum effect: the intent mix's Jensen–Shannon distance up {alarms.JsDistance:0.###} or its PSI up {alarms.Psi:0.###}, the share in intents the set lacks up {Percent(alarms.MissingShare)}, the unclassified share up {Percent(alarms.UnknownShare)}, a cohort dimension's distance up {alarms.CohortJsDistance:0.###}, embedding coverage down {Percent(alarms.CoverageDrop)} (one stratum's down {Percent(alarms.StratumCoverageDrop)}), traffic unlike every case and example up {Percent(alarms.Novelty)}, thumbs up down {Percent(alarms.ThumbsUpDrop)} or escalations up {Percent(alarms.EscalationRise)}; and when a run scores gold more than {Percent(alarms.GoldShadowGap)} above the shadow pool (p below {alarms.PValue:0.#####}).");
        return text.ToString();
    }

    /// <summary>What the floors make of a size they exceed (RC1106); empty when they fit.</summary>
    private static string FloorsRaise(SamplingPolicy policy, Taxonomy taxonomy, int size)
    {
        var strata = FloorRule.StrataOf(policy.Strata, taxonomy);
        var need = strata * policy.Strata.Floor;
        return need > size ? string.Create(CultureInfo.InvariantCulture, $"floors apply per stratum, so the floor of {policy.Strata.Floor} for each of {strata:N0} strata takes it to as many as {need:N0}") : string.Empty;
    }

    private static string Duration(TimeSpan span) =>
        span.TotalDays >= 7 && span.TotalDays % 7 == 0 ? Plural((int)(span.TotalDays / 7), "week")
        : span.TotalHours % 24 == 0 ? Plural((int)span.TotalDays, "day")
        : Plural((int)span.TotalHours, "hour");

    private static string Plural(int count, string unit) => count == 1 ? unit : $"{count} {unit}s";

    private static string Percent(double share) => share.ToString("0.##%", CultureInfo.InvariantCulture);

    private static string Join(IEnumerable<string> items, string conjunction = "and")
    {
        var list = items.ToList();
        return list.Count switch
        {
            0 => "nothing",
            1 => list[0],
            2 => $"{list[0]} {conjunction} {list[1]}",
            _ => string.Join(", ", list.Take(list.Count - 1)) + $", {conjunction} {list[^1]}",
        };
    }
}
