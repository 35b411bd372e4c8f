using Recal.Ingest;
using Recal.Ingest.Mapping;
using Recal.Ingest.Otel;
using Recal.Text;
using YamlDotNet.RepresentationModel;

namespace Recal.Project;

/// <summary>Reads the <c>ingest:</c> section of recal.yaml (docs/project-format.md#ingest).</summary>
internal static class IngestSettingsReader
{
    private static readonly string[] Rules = ["trace", "span", "conversation"];

    public static IngestSettings? Read(YamlObject? ingest)
    {
        if (ingest is null)
        {
            return null;
        }

        TraceFormat? format = null;
        if (ingest.Get("format") is YamlScalarNode { Value: { } formatText } formatNode)
        {
            if (TraceFormats.TryParse(formatText, out var parsed))
            {
                format = parsed;
            }
            else
            {
                ingest.Diagnostics.Error("RC1007", $"'{ingest.Name("format")}' has the unknown value '{formatText}'", ingest.At(formatNode), Spelling.Hint(formatText, [.. TraceFormats.Names]));
            }
        }

        InteractionRule? interaction = null;
        if (ingest.Get("interaction") is YamlScalarNode { Value: { } ruleText } ruleNode)
        {
            if (Array.IndexOf(Rules, ruleText) is >= 0 and var index)
            {
                interaction = (InteractionRule)index;
            }
            else
            {
                ingest.Diagnostics.Error("RC1007", $"'{ingest.Name("interaction")}' has the unknown value '{ruleText}'", ingest.At(ruleNode), Spelling.Hint(ruleText, Rules));
            }
        }

        var feedback = new List<KeyValuePair<string, FeedbackSignal>>();
        if (ingest.Object("feedback") is { } names)
        {
            foreach (var (key, value) in names.Node.Children)
            {
                if (key is YamlScalarNode { Value: { } name } && value is YamlScalarNode { Value: { } signalText })
                {
                    if (FeedbackMap.TryParseSignal(signalText, out var signal))
                    {
                        feedback.Add(new(name, signal));
                    }
                    else
                    {
                        ingest.Diagnostics.Error("RC1007", $"'{names.Name(name)}' has the unknown signal '{signalText}'", names.At(value), Spelling.Hint(signalText, FeedbackMap.SignalNames.ToList()));
                    }
                }
                else
                {
                    ingest.Diagnostics.Error("RC1005", $"every entry of '{ingest.Name("feedback")}' must be NAME: SIGNAL", names.At(key));
                }
            }
        }

        var mapping = ReadMapping(ingest.Object("mapping"));
        ingest.RejectUnknownKeys();
        return new IngestSettings(format, interaction, feedback, mapping);
    }

    private static IngestMapping? ReadMapping(YamlObject? yaml)
    {
        if (yaml is null)
        {
            return null;
        }

        var records = Path(yaml, "records");
        var id = Path(yaml, "id");
        var timestamp = Path(yaml, "timestamp", required: true);
        var input = Path(yaml, "input", required: true);
        var output = Path(yaml, "output");
        var model = Path(yaml, "model");
        var metadata = new List<KeyValuePair<string, JsonPath>>();
        if (yaml.Object("metadata") is { } fields)
        {
            foreach (var (key, _) in fields.Node.Children)
            {
                if (key is YamlScalarNode { Value: { } name } && Path(fields, name) is { } path)
                {
                    metadata.Add(new(name, path));
                }
            }
        }

        var feedback = new List<KeyValuePair<FeedbackSignal, JsonPath>>();
        if (yaml.Object("feedback") is { } signals)
        {
            foreach (var (key, _) in signals.Node.Children)
            {
                if (key is not YamlScalarNode { Value: { } name })
                {
                    continue;
                }

                if (!FeedbackMap.TryParseSignal(name, out var signal))
                {
                    yaml.Diagnostics.Error("RC1003", $"unknown key '{signals.Name(name)}'", signals.At(key), Spelling.Hint(name, FeedbackMap.SignalNames.ToList()));
                    signals.Get(name);
                    continue;
                }

                if (Path(signals, name) is { } path)
                {
                    feedback.Add(new(signal, path));
                }
            }
        }

        yaml.RejectUnknownKeys();
        return timestamp is null || input is null ? null : new IngestMapping(records, id, timestamp, input, output, model, metadata, feedback);
    }

    private static JsonPath? Path(YamlObject yaml, string key, bool required = false)
    {
        var node = yaml.Get(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is not YamlScalarNode { Value: { } text })
        {
            yaml.Diagnostics.Error("RC1005", $"'{yaml.Name(key)}' must be a JSON path such as $.request.input", yaml.At(node));
            return null;
        }

        var path = JsonPath.TryParse(text, out var error);
        if (path is null)
        {
            yaml.Diagnostics.Error("RC1013", $"'{yaml.Name(key)}' is not a JSON path: {error}", yaml.At(node), "write $ then .name or [index] steps, e.g. $.messages[0].content or $['user id']");
        }

        return path;
    }
}
