using System.Globalization;
using Recal.Diagnostics;
using Recal.Project;
using YamlDotNet.RepresentationModel;

namespace Recal.Judging;

/// <summary>Reads a rubric YAML file with located diagnostics.</summary>
public static class RubricLoader
{
    public static (Rubric? Rubric, IReadOnlyList<Diagnostic> Diagnostics) Load(string path, string? displayPath = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var diagnostics = new DiagnosticBag();
        if (EvalProjectLoader.ReadYaml(path, diagnostics) is not { } node)
        {
            return (null, diagnostics.Items);
        }

        var yaml = new YamlObject(node, displayPath ?? path, diagnostics);
        var name = yaml.String("name", required: true) ?? Path.GetFileNameWithoutExtension(path);
        var version = yaml.Int("version", required: true, min: 1) ?? 1;
        var instructions = yaml.String("instructions");
        var dimensions = new List<RubricDimension>();
        foreach (var item in yaml.Sequence("dimensions", required: true))
        {
            if (item is not YamlMappingNode mapping)
            {
                diagnostics.Error("RC1301", "every dimension must be a mapping with name, scale and anchors", yaml.At(item));
                continue;
            }

            var dimension = new YamlObject(mapping, yaml.File, diagnostics, "dimensions[]");
            var dimensionName = dimension.String("name", required: true);
            var description = dimension.String("description");
            var scale = dimension.Strings("scale", required: true);
            var anchors = new Dictionary<int, string>();
            if (dimension.Object("anchors", required: true) is { } anchorYaml)
            {
                foreach (var (key, value) in anchorYaml.Node.Children)
                {
                    if (key is YamlScalarNode { Value: { } point } && int.TryParse(point, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && value is YamlScalarNode { Value: { } text })
                    {
                        anchors[p] = text;
                    }
                    else
                    {
                        diagnostics.Error("RC1302", "anchors map a whole-number point to its description, e.g. 5: fully correct", anchorYaml.At(key));
                    }
                }
            }

            dimension.RejectUnknownKeys();
            if (dimensionName is null)
            {
                continue;
            }

            if (scale.Count != 2 || !int.TryParse(scale[0], CultureInfo.InvariantCulture, out var min) || !int.TryParse(scale[1], CultureInfo.InvariantCulture, out var max) || min >= max)
            {
                diagnostics.Error("RC1303", $"dimension '{dimensionName}': 'scale' must be [lowest, highest] whole numbers, lowest first", dimension.Location, "e.g. scale: [1, 5]");
                continue;
            }

            foreach (var point in anchors.Keys.Where(p => p < min || p > max))
            {
                diagnostics.Error("RC1304", $"dimension '{dimensionName}': anchor {point} lies outside the scale {min}–{max}", dimension.Location);
            }

            if (!anchors.ContainsKey(min) || !anchors.ContainsKey(max))
            {
                diagnostics.Error("RC1305", $"dimension '{dimensionName}' needs anchors for at least its lowest ({min}) and highest ({max}) points", dimension.Location, "a judge scores consistently only against described points");
            }

            if (dimensions.Any(d => d.Name == dimensionName))
            {
                diagnostics.Error("RC1306", $"dimension '{dimensionName}' is defined twice", dimension.Location);
                continue;
            }

            dimensions.Add(new RubricDimension(dimensionName, description, min, max, anchors));
        }

        var passYaml = yaml.Object("pass", required: true);
        var pass = new PassRule(passYaml?.Double("all_at_least"), passYaml?.Double("mean_at_least"));
        passYaml?.RejectUnknownKeys();
        if (passYaml is not null && pass.AllAtLeast is null && pass.MeanAtLeast is null)
        {
            diagnostics.Error("RC1307", "'pass' needs all_at_least and/or mean_at_least", passYaml.Location);
        }

        yaml.RejectUnknownKeys();
        if (dimensions.Count == 0 && !diagnostics.HasErrors)
        {
            diagnostics.Error("RC1301", "a rubric needs at least one dimension", yaml.Location);
        }

        return diagnostics.HasErrors ? (null, diagnostics.Items) : (new Rubric(name, version, instructions, dimensions, pass), diagnostics.Items);
    }
}
