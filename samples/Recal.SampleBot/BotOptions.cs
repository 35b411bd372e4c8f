using System.Globalization;

namespace Recal.Samples.Bot;

/// <summary>The bot's command line, read once and frozen.</summary>
/// <param name="ProjectDirectory">The eval project whose taxonomy and gold cases the models are built from.</param>
/// <param name="Port">The loopback port to bind; 0 picks any free port.</param>
/// <param name="PortFile">Where to write the bound base URL once listening; null for none.</param>
/// <param name="Latency">An artificial delay before every chat completion, for benchmarks.</param>
/// <param name="AccuracyData">When set, the CLINC150 folder to measure the models' intent accuracy on instead of serving.</param>
public sealed record BotOptions(string ProjectDirectory, int Port = 0, string? PortFile = null, TimeSpan Latency = default, string? AccuracyData = null)
{
    public const string Usage = """
        Usage: Recal.SampleBot --project DIR [--port N] [--port-file PATH] [--latency-ms N]
               Recal.SampleBot --project DIR --accuracy CLINC150_DIR

          --project DIR          the eval project (for example samples/clinc150-support)
          --port N               loopback port to bind; 0 (the default) picks a free port
          --port-file PATH       write the base URL (http://127.0.0.1:PORT/v1) here once listening
          --latency-ms N         delay every chat completion by N milliseconds (default 0)
          --accuracy DIR         print the models' intent accuracy on the gold set and on the CLINC150
                                 test split in DIR (the folder holding data_full.json), then exit
        """;

    /// <summary>Parses the arguments; on a mistake returns null and says what was wrong.</summary>
    public static BotOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        string? project = null;
        string? portFile = null;
        string? accuracy = null;
        var port = 0;
        var latency = 0;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help")
            {
                error = null;
                return null;
            }

            if (i + 1 >= args.Count)
            {
                error = $"{name} needs a value";
                return null;
            }

            var value = args[++i];
            switch (name)
            {
                case "--project":
                    project = value;
                    break;
                case "--port-file":
                    portFile = value;
                    break;
                case "--accuracy":
                    accuracy = value;
                    break;
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535:
                    break;
                case "--latency-ms" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out latency):
                    break;
                case "--port" or "--latency-ms":
                    error = $"{name} needs a whole number, got '{value}'";
                    return null;
                default:
                    error = $"unknown option '{name}'";
                    return null;
            }
        }

        if (project is null)
        {
            error = "--project DIR is required";
            return null;
        }

        error = null;
        return new BotOptions(project, port, portFile, TimeSpan.FromMilliseconds(latency), accuracy);
    }
}
