using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Recal.Domain;
using Recal.Project;
using Recal.Samples.Bot;
using Xunit;

[assembly: AssemblyFixture(typeof(Recal.SampleBot.Tests.BotFixture))]

namespace Recal.SampleBot.Tests;

/// <summary>The sample project, its trained bot and the bot served in-process on a free loopback port, shared by all tests.</summary>
public sealed class BotFixture : IAsyncLifetime
{
    private SampleBotServer? _server;

    public EvalProject Project { get; private set; } = null!;

    public SupportBot Bot { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var loaded = EvalProjectLoader.Load(RepositoryPaths.SampleProject);
        Project = loaded.Project ?? throw new InvalidOperationException(string.Join(Environment.NewLine, loaded.Diagnostics));
        Bot = SupportBot.Create(Project);
        _server = await SampleBotServer.StartAsync(Bot);
        Client = new HttpClient { BaseAddress = new Uri(_server.BaseUrl + "/") };
    }

    /// <summary>Posts a chat completion request and returns the status and the raw body.</summary>
    public async Task<(int Status, string Body)> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Client.PostAsync("chat/completions", content, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Sends the messages to the model and returns the assistant's content, failing on any non-200 reply.</summary>
    public async Task<string> ChatAsync(string model, IEnumerable<(string Role, string Content)> messages, long? seed = null)
    {
        var request = new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = messages.Select(m => new { role = m.Role, content = m.Content }).ToArray(),
            ["temperature"] = 0,
        };
        if (seed is { } s)
        {
            request["seed"] = s;
        }

        var (status, body) = await PostAsync(JsonSerializer.Serialize(request));
        if (status != 200)
        {
            throw new InvalidOperationException($"HTTP {status}: {body}");
        }

        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }

    public Task<string> AskAsync(string model, string userText) => ChatAsync(model, [("user", userText)]);

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
