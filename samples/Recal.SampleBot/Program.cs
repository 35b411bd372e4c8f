using Recal.Diagnostics;
using Recal.Project;
using Recal.Samples.Bot;

// The sample's system under test: a deterministic support bot and rubric judge behind an OpenAI-compatible
// endpoint on loopback. Usage in BotOptions.Usage; exit codes: 0 stopped cleanly, 1 project errors, 2 bad usage.
var options = BotOptions.Parse(args, out var usageError);
if (options is null)
{
    if (usageError is not null)
    {
        await Console.Error.WriteLineAsync($"error: {usageError}");
    }

    await (usageError is null ? Console.Out : Console.Error).WriteLineAsync(BotOptions.Usage);
    return usageError is null ? 0 : 2;
}

var loaded = EvalProjectLoader.Load(options.ProjectDirectory);
foreach (var diagnostic in loaded.Diagnostics.Where(d => d.Severity == Severity.Error))
{
    await Console.Error.WriteLineAsync(diagnostic.ToString());
}

if (loaded.Project is not { } project || loaded.HasErrors)
{
    await Console.Error.WriteLineAsync($"error: the project in {options.ProjectDirectory} could not be loaded");
    return 1;
}

var bot = SupportBot.Create(project);
if (options.AccuracyData is { } clinc)
{
    foreach (var figure in IntentAccuracy.Report(bot, project, clinc))
    {
        Console.WriteLine(figure);
    }

    return 0;
}

SampleBotServer server;
try
{
    server = await SampleBotServer.StartAsync(bot, options.Port, options.Latency);
}
catch (IOException e)
{
    await Console.Error.WriteLineAsync($"error: cannot listen on 127.0.0.1:{options.Port}: {e.Message}");
    return 1;
}

await using var running = server;
var baseUrl = server.BaseUrl.ToString();
if (options.PortFile is { } portFile)
{
    // Write then rename, so a reader polling for the file never sees it half written.
    var full = Path.GetFullPath(portFile);
    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
    var temporary = full + $".{Environment.ProcessId}.tmp";
    await File.WriteAllTextAsync(temporary, baseUrl);
    File.Move(temporary, full, overwrite: true);
}

Console.WriteLine(baseUrl);
await server.WaitForShutdownAsync();
if (options.PortFile is { } written && File.Exists(written) && await File.ReadAllTextAsync(written) == baseUrl)
{
    // A stale file would send the next reader to a closed port.
    File.Delete(written);
}

return 0;
