using Recal.Diagnostics;
using Recal.Domain;
using Recal.Text;
using YamlDotNet.RepresentationModel;

namespace Recal.Project;

/// <summary>Reads policy.yaml's <c>gates:</c> section (docs/gates.md).</summary>
internal static class GatesReader
{
    /// <summary>What a gold segment may be cut by, besides the taxonomy's cohort dimensions.</summary>
    public static IReadOnlyList<string> SegmentKinds { get; } = ["difficulty", "provenance", "intent"];

    public static GatePolicy Read(YamlObject policy, Dictionary<string, SourceLocation> locations)
    {
        var yaml = policy.Object("gates");
        if (yaml is null)
        {
            return GatePolicy.Defaults;
        }

        var d = GatePolicy.Defaults;
        var gold = yaml.Object("gold");
        if (gold?.Get("by") is { } byNode)
        {
            locations["gates.gold.by"] = gold.At(byNode);
        }

        var (onlineOn, online) = Switch(yaml, "online");
        var gates = new GatePolicy
        {
            Unknown = yaml.Enum<UnknownVerdict>("unknown", d.Unknown) ?? d.Unknown,
            Confidence = yaml.Double("confidence", min: 0.5, max: 0.9999) ?? d.Confidence,
            Assertions = yaml.Double("assertions", min: 0, max: 1) ?? d.Assertions,
            MaxRegression = gold?.Double("max_regression", min: 0, max: 1) ?? d.MaxRegression,
            MinCases = gold?.Int("min_cases", min: 1) ?? d.MinCases,
            SegmentsBy = gold?.Get("by") is null ? null : gold.Strings("by"),
            Holdout = Switch(yaml, "holdout").On ?? d.Holdout,
            Shadow = Switch(yaml, "shadow").On ?? d.Shadow,
            Online = onlineOn ?? d.Online,
            OnlineMode = online?.Enum<OnlineGateMode>("mode", d.OnlineMode) ?? d.OnlineMode,
            OnlineTolerance = online?.Double("tolerance", min: 0, max: 1),
        };
        gold?.RejectUnknownKeys();
        online?.RejectUnknownKeys();
        yaml.RejectUnknownKeys();
        return gates;
    }

    /// <summary>Checks the gold segments' dimensions against the taxonomy.</summary>
    public static void CrossCheck(GatePolicy gates, Taxonomy taxonomy, IReadOnlyDictionary<string, SourceLocation> locations, DiagnosticBag diagnostics)
    {
        if (gates.SegmentsBy is null || !locations.TryGetValue("gates.gold.by", out var at))
        {
            return;
        }

        var known = SegmentKinds.Concat(taxonomy.Cohorts.Select(c => c.Name)).ToList();
        foreach (var key in gates.SegmentsBy.Where(k => !known.Contains(k)))
        {
            diagnostics.Error("RC1108", $"gates.gold.by names '{key}', which is not a segment a run has", at, Spelling.Hint(key, known));
        }
    }

    /// <summary>A gate given as <c>true</c>/<c>false</c> or as a mapping of its settings (which switches it on).</summary>
    private static (bool? On, YamlObject? Settings) Switch(YamlObject yaml, string key) =>
        yaml.Get(key) switch
        {
            null => (null, null),
            YamlMappingNode => (true, yaml.Object(key)),
            _ => (yaml.Bool(key), null),
        };
}
