using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Recal.Cli;
using Recal.Cli.Commands;
using Recal.Domain;
using Recal.Project;
using Recal.Storage;
using Recal.Storage.Sqlite;
using Spectre.Console;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>A fresh project (made by <c>recal init</c>) and its server on 127.0.0.1 with a free port, composed as <c>recal serve</c> composes it.</summary>
internal sealed class Harness : IAsyncDisposable
{
    public const string Token = "write-token-for-tests-7f3a";
    public const string ReadToken = "read-token-for-tests-91c2";

    private Harness(string folder, EvalProject project, IRecalStore store, WebApplication app)
    {
        Folder = folder;
        Project = project;
        Store = store;
        App = app;
        Url = new Uri(app.Urls.First());
        Client = new HttpClient { BaseAddress = Url };
        Client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
    }

    public string Folder { get; }

    public EvalProject Project { get; }

    public IRecalStore Store { get; }

    public WebApplication App { get; }

    public Uri Url { get; }

    /// <summary>A client sending the write token.</summary>
    public HttpClient Client { get; }

    private bool _stopped;

    public static async Task<Harness> StartAsync(RecalServerOptions? options = null, Func<IRecalStore, IRecalStore>? wrap = null, Action<WebApplication>? middleware = null) =>
        await StartOnAsync(await NewProjectAsync("serve"), options, wrap, middleware);

    /// <summary>The server of an existing project folder (deleted when the harness is disposed).</summary>
    public static async Task<Harness> StartOnAsync(string folder, RecalServerOptions? options = null, Func<IRecalStore, IRecalStore>? wrap = null, Action<WebApplication>? middleware = null)
    {
        var project = LoadProject(folder);
        // Through the CLI's providers, as recal serve opens it: SQLite or PostgreSQL by the project's store: setting.
        var store = await CliContext.DefaultStores.Resolve(project.Settings.Store).OpenAsync(project.Settings.Store, null, TestContext.Current.CancellationToken);
        var served = wrap?.Invoke(store) ?? store;
        options = (options ?? new RecalServerOptions { WriteToken = Token, ReadToken = ReadToken }) with { Urls = ["http://127.0.0.1:0"] };
        var context = await ServeCommand.ComposeAsync(project, served, options.Urls, TestContext.Current.CancellationToken);
        var app = RecalServer.Build(options, context, middleware: middleware, logging: _ => { });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new Harness(folder, project, store, app);
    }

    /// <summary>A new project folder made by <c>recal init</c>.</summary>
    public static async Task<string> NewProjectAsync(string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"recal-{name}-" + Guid.NewGuid().ToString("N")[..12]);
        var (code, _, error) = await RunCliAsync("init", folder, "--name", name);
        Assert.True(code == 0, error);
        return folder;
    }

    public static EvalProject LoadProject(string folder) => EvalProjectLoader.Load(folder).Project ?? throw new InvalidOperationException("the project does not load");

    /// <summary>Runs the real command tree in-process with captured output.</summary>
    public static async Task<(int Code, string Out, string Error)> RunCliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await RecalCli.RunAsync(args, new CliContext(Console(output), Console(error)), TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>A colourless console writing to <paramref name="writer"/>, 200 columns wide.</summary>
    public static IAnsiConsole Console(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        return console;
    }

    /// <summary>Stops the server (the queue drains into the store) and keeps the store open for reading.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await App.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Every stored trace as JSON, by key: what two ingests are compared by.</summary>
    public static async Task<SortedDictionary<string, string>> StoredAsync(IRecalStore store)
    {
        var traces = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await store.ScanTracesAsync(null, null, t => traces[t.Key] = JsonSerializer.Serialize(t with { Trace = t.Trace with { MetadataUtf8 = null } }), TestContext.Current.CancellationToken);
        return traces;
    }

    /// <summary>The traces a project's store holds, opened afresh (after another process wrote it).</summary>
    public static async Task<SortedDictionary<string, string>> StoredAsync(string folder)
    {
        var project = LoadProject(folder);
        await using var store = await new SqliteStoreProvider().OpenReadOnlyAsync(project.Settings.Store, null, TestContext.Current.CancellationToken);
        return await StoredAsync(store);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await App.DisposeAsync();
        Client.Dispose();
        await Store.DisposeAsync();
        Delete(Folder);
    }

    /// <summary>A port nothing listens on now (on 127.0.0.1), for a server started by its URL.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static void Delete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment; the temporary folder is left.
        }
    }
}
