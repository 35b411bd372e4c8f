using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recal.Classification;
using Recal.Ingest;
using Recal.Server;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal serve</c>: the project's server, receiving OTLP/HTTP into its store (docs/serve.md).</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var urls = new Option<string[]>("--urls")
        {
            Description = $"Where to listen (repeatable, or separated by ';'); default {RecalServerOptions.DefaultUrl}. An address other than loopback needs {RecalServerOptions.WriteTokenVariable}",
            HelpName = "url",
        };
        var noToken = new Option<bool>("--no-token")
        {
            Description = $"Serve without a token (loopback addresses only); otherwise {RecalServerOptions.WriteTokenVariable} is required, and {RecalServerOptions.ReadTokenVariable} optional",
        };
        var maxBody = new Option<int>("--max-body-mib")
        {
            Description = $"The largest request body accepted, in MiB, on the wire and after gzip (default {RecalServerOptions.DefaultMaxBodyBytes >> 20}); larger ones get 413",
            DefaultValueFactory = _ => (int)(RecalServerOptions.DefaultMaxBodyBytes >> 20),
            HelpName = "mib",
        };
        var queue = new Option<int>("--queue")
        {
            Description = $"How many parsed trace parts may wait for the store (default {RecalServerOptions.DefaultQueueParts:N0}); beyond, requests get 429 with Retry-After",
            DefaultValueFactory = _ => RecalServerOptions.DefaultQueueParts,
            HelpName = "parts",
        };
        var command = new Command("serve", "Run the project's server: an OTLP/HTTP receiver at /v1/traces and /v1/logs that stores traces as 'recal ingest' does (loopback by default)");
        command.Options.Add(urls);
        command.Options.Add(noToken);
        command.Options.Add(maxBody);
        command.Options.Add(queue);
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new RecalServerOptions
            {
                Urls = parse.GetValue(urls) is { Length: > 0 } given ? [.. given.SelectMany(u => u.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))] : [RecalServerOptions.DefaultUrl],
                NoToken = parse.GetValue(noToken),
                WriteToken = Environment.GetEnvironmentVariable(RecalServerOptions.WriteTokenVariable),
                ReadToken = Environment.GetEnvironmentVariable(RecalServerOptions.ReadTokenVariable),
                MaxBodyBytes = (long)parse.GetValue(maxBody) << 20,
                QueueParts = parse.GetValue(queue),
            };
            return RunAsync(context, parse.GetValue(GlobalOptions.Project)!, options, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// What the server is given, composed as <c>recal ingest</c> composes an ingest: the project's classifier over its
    /// store, its <c>ingest:</c> settings (interaction rule, feedback names) and its quarantine file.
    /// </summary>
    internal static async Task<RecalServerContext> ComposeAsync(Recal.Domain.EvalProject project, Recal.Storage.IRecalStore store, IReadOnlyList<string> urls, CancellationToken cancellationToken)
    {
        var settings = project.Settings.Ingest;
        var mapping = new Recal.Ingest.Otel.OtelMappingOptions(settings?.Interaction ?? Recal.Ingest.Otel.InteractionRule.Trace, FeedbackMap.Default.With(settings?.Feedback ?? []));
        var classifier = await ClassifierCache.GetAsync(project.Taxonomy, store, cancellationToken).ConfigureAwait(false);
        var traceClassifier = new TraceClassifier(classifier, project.Taxonomy);
        var quarantinePath = Path.Combine(Path.GetDirectoryName(project.Settings.StorePath)!, "quarantine.jsonl");
        return new RecalServerContext(store, traceClassifier.Classify, quarantinePath, mapping, project.Settings.Name)
        {
            Source = "recal serve " + string.Join(' ', urls),
            ProjectRoot = project.Root,
            Retention = project.Settings.Retention,
            // The dashboard reads the project again when its files change: the embedder follows its settings then.
            Embedder = current => EmbedderOptions.Create(current.Settings.Embeddings, current.Settings.Run),
        };
    }

    private static async Task<int> RunAsync(CliContext context, DirectoryInfo directory, RecalServerOptions options, CancellationToken cancellationToken)
    {
        var problems = options.Problems();
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                context.Error.MarkupLine($"[red]error[/] RC4001: {Markup.Escape(problem)}");
            }

            return ExitCodes.CannotRun;
        }

        var project = ProjectSession.Load(context, directory);
        if (project is null)
        {
            return ExitCodes.CannotRun;
        }

        await using var store = await ProjectSession.OpenStoreAsync(context, project, cancellationToken).ConfigureAwait(false);
        // The dashboard reads through a connection of its own, so its long reads never hold up the receiver's writer.
        await using var viewStore = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
        var serverContext = await ComposeAsync(project, store, options.Urls, cancellationToken).ConfigureAwait(false) with { ViewStore = viewStore };

        // RECAL_LOG_LEVEL set: the server's log goes where every command's goes (stderr, one line an event).
        Action<ILoggingBuilder>? logging = context.Logger is ConsoleLogger console
            ? builder => builder.AddProvider(new OneLoggerProvider(console)).SetMinimumLevel(console.Minimum)
            : null;
        await using var app = RecalServer.Build(options, serverContext, logging: logging);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            // The address is taken or cannot be bound.
            context.Error.MarkupLine($"[red]error[/] RC4002: cannot listen on {Markup.Escape(string.Join(", ", options.Urls))}: {Markup.Escape(e.Message)}");
            return ExitCodes.CannotRun;
        }

        var access = options.NoToken ? "no token (loopback only)" : string.IsNullOrEmpty(options.ReadToken) ? "write token" : "write and read tokens";
        context.Out.MarkupLine($"Serving {Markup.Escape(project.Settings.Name)} on {Markup.Escape(string.Join(", ", app.Urls))} ({access}); OTLP/HTTP at /v1/traces and /v1/logs; store {Markup.Escape(project.Settings.Store.Display)}. Ctrl-C stops.");
        try
        {
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        // Accepted requests are committed before the store closes.
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        context.Out.MarkupLine("Stopped; every acknowledged request is stored.");
        return ExitCodes.Ok;
    }
}

/// <summary>Hands the command's logger to every category of the server's log.</summary>
internal sealed class OneLoggerProvider(ILogger logger) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => logger;

    public void Dispose()
    {
    }
}
