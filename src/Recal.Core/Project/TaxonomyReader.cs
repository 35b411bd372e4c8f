using Recal.Domain;
using YamlDotNet.RepresentationModel;

namespace Recal.Project;

/// <summary>Reads taxonomy.yaml.</summary>
internal static class TaxonomyReader
{
    /// <summary>Fewer examples than this make a weak classifier: a warning, not an error.</summary>
    public const int MinExamples = 5;

    public static Taxonomy Read(YamlObject yaml)
    {
        var version = yaml.Int("version", min: 1) ?? 1;
        var classifier = yaml.Object("classifier");
        var settings = ClassifierSettings.Auto;
        if (classifier is not null)
        {
            // unknown_below: a number fixes the threshold; auto (the default) calibrates it on held-out examples.
            var auto = string.Equals(classifier.String("unknown_below"), "auto", StringComparison.Ordinal);
            var fixedBelow = auto ? null : classifier.Double("unknown_below", min: 0, max: 1);
            var rate = classifier.Double("unknown_rate", min: 0.001, max: 0.5);
            settings = fixedBelow is { } below
                ? new ClassifierSettings(below)
                : ClassifierSettings.Auto with { UnknownRate = rate ?? ClassifierSettings.DefaultUnknownRate };
            classifier.RejectUnknownKeys();
        }

        var intents = new List<IntentDefinition>();
        var seen = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var node in yaml.Sequence("intents", required: true))
        {
            if (node is not YamlMappingNode mapping)
            {
                yaml.Diagnostics.Error("RC1005", "every intent must be a mapping with name, description and examples", yaml.At(node));
                continue;
            }

            var item = new YamlObject(mapping, yaml.File, yaml.Diagnostics, "intents[]");
            var name = item.String("name", required: true);
            var description = item.String("description");
            var examples = item.Strings("examples");
            var keywords = item.Strings("keywords");
            var group = item.String("group");
            item.RejectUnknownKeys();
            if (name is null)
            {
                continue;
            }

            if (name == Taxonomy.UnknownIntent)
            {
                yaml.Diagnostics.Error("RC1006", $"'{Taxonomy.UnknownIntent}' is reserved for traces the classifier cannot place", item.Location, "rename the intent");
            }

            if (!seen.TryAdd(name, mapping))
            {
                yaml.Diagnostics.Error("RC1101", $"intent '{name}' is defined twice", item.Location, $"first defined at line {seen[name].Start.Line}");
                continue;
            }

            if (examples.Count + keywords.Count < MinExamples)
            {
                yaml.Diagnostics.Warning("RC1102", $"intent '{name}' has {examples.Count} example(s); the classifier will be weak for it", item.Location, $"give at least {MinExamples} examples");
            }

            intents.Add(new IntentDefinition(name, description, examples, keywords, group));
        }

        var cohorts = new List<CohortDimension>();
        foreach (var node in yaml.Sequence("cohorts"))
        {
            if (node is not YamlMappingNode mapping)
            {
                yaml.Diagnostics.Error("RC1005", "every cohort dimension must be a mapping with name, field and values", yaml.At(node));
                continue;
            }

            var item = new YamlObject(mapping, yaml.File, yaml.Diagnostics, "cohorts[]");
            var name = item.String("name", required: true);
            var field = item.String("field") ?? name;
            var values = item.Strings("values");
            var missing = item.String("missing") ?? "unknown";
            item.RejectUnknownKeys();
            if (name is null)
            {
                continue;
            }

            if (name == "intent" || cohorts.Any(c => c.Name == name))
            {
                yaml.Diagnostics.Error("RC1101", $"cohort dimension '{name}' is defined twice or clashes with 'intent'", item.Location);
                continue;
            }

            cohorts.Add(new CohortDimension(name, field!, values, missing));
        }

        yaml.RejectUnknownKeys();
        return new Taxonomy(version, intents, cohorts, settings);
    }
}
