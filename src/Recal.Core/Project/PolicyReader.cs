using System.Globalization;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Text;
using YamlDotNet.RepresentationModel;

namespace Recal.Project;

/// <summary>Reads policy.yaml and checks it against the taxonomy.</summary>
internal static class PolicyReader
{
    private const double WeightTolerance = 1e-6;

    public static SamplingPolicy Read(YamlObject yaml, Dictionary<string, SourceLocation> locations)
    {
        var version = yaml.Int("version", required: true, min: 1) ?? 1;
        var description = yaml.String("description");
        var size = yaml.Int("size", required: true, min: 1) ?? 1;
        var window = yaml.Duration("traffic_window") ?? TimeSpan.FromDays(28);

        var strataYaml = yaml.Object("strata");
        locations["strata"] = strataYaml?.Location ?? yaml.Location;
        foreach (var key in new[] { "by", "floor", "weights" })
        {
            if (strataYaml?.Node.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: { } k } && k == key).Value is { } node)
            {
                locations["strata." + key] = yaml.At(node);
            }
        }

        var by = strataYaml?.Strings("by") is { Count: > 0 } keys ? keys : ["intent"];
        var weighting = strataYaml?.Enum<DefaultWeighting>("default", DefaultWeighting.Traffic) ?? DefaultWeighting.Traffic;
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        if (strataYaml?.Object("weights") is { } weightsYaml)
        {
            foreach (var (key, _) in weightsYaml.Node.Children)
            {
                if (key is YamlScalarNode { Value: { } name } && weightsYaml.Double(name, min: 0, max: 1) is { } weight)
                {
                    locations["strata.weights." + name] = yaml.At(key);
                    weights[name] = weight;
                }
            }
        }

        var floor = strataYaml?.Int("floor", min: 0) ?? 0;
        strataYaml?.RejectUnknownKeys();

        var exclusionsYaml = yaml.Object("exclusions");
        var patterns = exclusionsYaml?.Strings("patterns") ?? [];
        foreach (var pattern in patterns)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                yaml.Diagnostics.Error("RC1006", $"exclusion pattern '{pattern}' is not a valid regular expression: {e.Message}", exclusionsYaml!.Location);
            }
        }

        var metadata = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if (exclusionsYaml?.Object("metadata") is { } metadataYaml)
        {
            foreach (var (key, _) in metadataYaml.Node.Children)
            {
                if (key is YamlScalarNode { Value: { } field })
                {
                    metadata[field] = metadataYaml.Strings(field);
                }
            }
        }

        var nearDuplicate = exclusionsYaml?.Double("near_duplicate_similarity", min: 0, max: 1) ?? 0.95;
        var minChars = exclusionsYaml?.Int("min_input_chars", min: 0) ?? 1;
        exclusionsYaml?.RejectUnknownKeys();

        var holdoutNode = yaml.Get("holdout_fraction");
        var holdout = yaml.Double("holdout_fraction", min: 0, max: 1) ?? 0;
        if (holdout >= 1)
        {
            yaml.Diagnostics.Error("RC1006", "'holdout_fraction' must be below 1: a holdout of the whole set leaves no gold set", yaml.At(holdoutNode!), "a fifth (0.2) is common");
        }

        var refresh = yaml.Duration("refresh") ?? TimeSpan.FromDays(7);
        var rotation = yaml.Duration("rotation") ?? TimeSpan.FromDays(90);

        var promotionYaml = yaml.Object("promotion");
        var promotion = new PromotionRule(promotionYaml?.Double("min_weight", min: 0, max: 1) ?? 0.01, promotionYaml?.Int("cycles", min: 1) ?? 3);
        promotionYaml?.RejectUnknownKeys();

        var retirementYaml = yaml.Object("retirement");
        var retirement = new RetirementRule(
            retirementYaml?.Int("unmatched_cycles", min: 1) ?? 4,
            retirementYaml?.Bool("expired") ?? true,
            retirementYaml?.Bool("newly_passing") ?? true)
        {
            Neighbourhood = retirementYaml?.Bool("neighbourhood") ?? true,
        };
        retirementYaml?.RejectUnknownKeys();

        var alarmsYaml = yaml.Object("alarms");
        var d = AlarmThresholds.Defaults;
        var alarms = new AlarmThresholds(
            alarmsYaml?.Double("js_distance", min: 0, max: 1) ?? d.JsDistance,
            alarmsYaml?.Double("psi", min: 0) ?? d.Psi,
            alarmsYaml?.Double("p_value", min: 0, max: 1) ?? d.PValue,
            alarmsYaml?.Double("missing_share", min: 0, max: 1) ?? d.MissingShare,
            alarmsYaml?.Double("cohort_js_distance", min: 0, max: 1) ?? d.CohortJsDistance)
        {
            FalseAlarmRate = alarmsYaml?.Double("false_alarm_rate", min: 1e-6, max: 0.5) ?? d.FalseAlarmRate,
            GoldShadowGap = alarmsYaml?.Double("gold_shadow_gap", min: 0, max: 1) ?? d.GoldShadowGap,
            CoverageDrop = alarmsYaml?.Double("coverage_drop", min: 0, max: 1) ?? d.CoverageDrop,
            StratumCoverageDrop = alarmsYaml?.Double("stratum_coverage_drop", min: 0, max: 1) ?? d.StratumCoverageDrop,
            UnknownShare = alarmsYaml?.Double("unknown_share", min: 0, max: 1) ?? d.UnknownShare,
            Novelty = alarmsYaml?.Double("novelty", min: 0, max: 1) ?? d.Novelty,
            ThumbsUpDrop = alarmsYaml?.Double("thumbs_up_drop", min: 0, max: 1) ?? d.ThumbsUpDrop,
            EscalationRise = alarmsYaml?.Double("escalation_rise", min: 0, max: 1) ?? d.EscalationRise,
            ReleaseDivergence = alarmsYaml?.Double("release_divergence", min: 0, max: 1) ?? d.ReleaseDivergence,
        };
        if (alarmsYaml is not null)
        {
            WarnAbsoluteLevels(alarmsYaml, alarms);
        }

        alarmsYaml?.RejectUnknownKeys();
        var gates = GatesReader.Read(yaml, locations);
        var ownershipYaml = yaml.Object("ownership");
        Ownership? ownership = null;
        if (ownershipYaml is not null)
        {
            var owner = ownershipYaml.String("owner", required: true);
            DateOnly? since = null;
            if (ownershipYaml.String("since") is { } sinceText)
            {
                if (DateOnly.TryParseExact(sinceText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                {
                    since = day;
                }
                else
                {
                    yaml.Diagnostics.Error("RC1109", $"'ownership.since' is '{sinceText}', not a date", ownershipYaml.At(ownershipYaml.Get("since")!), "write the day the owner took the set over as YYYY-MM-DD, e.g. 2026-09-01");
                }
            }

            ownership = owner is null ? null : new Ownership(owner, since, ownershipYaml.Duration("rotation"));
            ownershipYaml.RejectUnknownKeys();
        }

        yaml.RejectUnknownKeys();

        return new SamplingPolicy(
            version,
            description,
            size,
            window,
            new StrataPolicy(by, weighting, weights, floor),
            new ExclusionRules(patterns, metadata, nearDuplicate, minChars),
            holdout,
            refresh,
            rotation,
            promotion,
            retirement,
            alarms)
        {
            Gates = gates,
            Ownership = ownership,
        };
    }

    /// <summary>
    /// A mix minimum effect as large as the absolute levels policies used before alarms were calibrated (0.2 and up)
    /// would silence its alarm: say so, once per key, at the key.
    /// </summary>
    private static void WarnAbsoluteLevels(YamlObject alarms, AlarmThresholds read)
    {
        var d = AlarmThresholds.Defaults;
        foreach (var (key, value, fallback, level) in new[]
        {
            ("js_distance", read.JsDistance, d.JsDistance, 0.15),
            ("psi", read.Psi, d.Psi, 0.2),
            ("missing_share", read.MissingShare, d.MissingShare, 0.1),
            ("cohort_js_distance", read.CohortJsDistance, d.CohortJsDistance, 0.15),
        })
        {
            if (value >= level && alarms.Get(key) is { } node)
            {
                alarms.Diagnostics.Warning("RC1107", string.Create(CultureInfo.InvariantCulture, $"alarms.{key} is {value}: it is the minimum rise from the reference window an alarm needs, and a rise that large will rarely come"), alarms.At(node),
                    string.Create(CultureInfo.InvariantCulture, $"the default is {fallback}; a policy written before alarms were calibrated set absolute levels here (docs/drift.md#calibrated-alarms)"));
            }
        }
    }

    /// <summary>Checks the strata against the taxonomy: known keys, known strata, weights that sum, floors that fit.</summary>
    public static void CrossCheck(SamplingPolicy policy, Taxonomy taxonomy, IReadOnlyDictionary<string, SourceLocation> locations, DiagnosticBag diagnostics)
    {
        SourceLocation At(string key) => locations.GetValueOrDefault(key) ?? locations["strata"];
        var dimensions = new List<IReadOnlyList<string>>();
        var known = new[] { "intent" }.Concat(taxonomy.Cohorts.Select(c => c.Name)).ToList();
        foreach (var key in policy.Strata.By)
        {
            if (key == "intent")
            {
                dimensions.Add([.. taxonomy.Intents.Select(i => i.Name)]);
            }
            else if (taxonomy.Cohorts.FirstOrDefault(c => c.Name == key) is { } cohort)
            {
                dimensions.Add(cohort.Values.Count > 0 ? [.. cohort.Values, cohort.Missing] : []);
            }
            else
            {
                diagnostics.Error("RC1103", $"strata.by names '{key}', which is neither 'intent' nor a cohort dimension", At("strata.by"), Spelling.Hint(key, known));
                return;
            }
        }

        foreach (var stratum in policy.Strata.Weights.Keys)
        {
            var parts = stratum.Split('/');
            if (parts.Length != dimensions.Count)
            {
                diagnostics.Error("RC1104", $"weight for '{stratum}' names {parts.Length} value(s); strata are by {string.Join(" × ", policy.Strata.By)}", At("strata.weights." + stratum),
                    $"name one value per key, joined with '/', e.g. '{string.Join('/', policy.Strata.By.Select(b => $"<{b}>"))}'");
                continue;
            }

            for (var i = 0; i < parts.Length; i++)
            {
                if (dimensions[i].Count > 0 && !dimensions[i].Contains(parts[i]))
                {
                    diagnostics.Error("RC1104", $"weight for '{stratum}': '{parts[i]}' is not a known {policy.Strata.By[i]}", At("strata.weights." + stratum), Spelling.Hint(parts[i], dimensions[i]));
                }
            }
        }

        var sum = policy.Strata.Weights.Values.Sum();
        if (sum > 1 + WeightTolerance)
        {
            var listed = policy.Strata.Weights.OrderBy(w => w.Key, StringComparer.Ordinal).ToList();
            diagnostics.Error("RC1105",
                string.Create(CultureInfo.InvariantCulture, $"strata weights sum to {sum:0.######} ({string.Join(" + ", listed.Select(w => $"{w.Key} {w.Value:0.######}"))}), more than 1: weights are shares of the set, and Recal never rescales them"),
                At("strata.weights"),
                string.Create(CultureInfo.InvariantCulture, $"lower them so they sum to at most 1; divided by {sum:0.######} they would be {string.Join(", ", listed.Select(w => $"{w.Key}: {w.Value / sum:0.###}"))}"));
        }
        else if (policy.Strata.Default == DefaultWeighting.None && Math.Abs(sum - 1) > WeightTolerance)
        {
            diagnostics.Error("RC1105", $"strata weights sum to {sum:0.######}; with 'default: none' they must sum to 1", At("strata.weights"), "adjust the weights, or set 'default: traffic' to share the rest by traffic");
        }

        if (FloorRule.Check(policy, taxonomy, policy.Size, "the size", At("strata.floor")) is { } floors)
        {
            diagnostics.Add(floors);
        }
    }
}
