using System.ClientModel;
using System.ClientModel.Primitives;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AIChatRole = Microsoft.Extensions.AI.ChatRole;

namespace Recal.Providers.OpenAI;

/// <summary>
/// An <see cref="IChatClient"/> over the OpenAI .NET SDK, for any OpenAI-compatible chat endpoint. The SDK's own
/// retries are turned off: retry policy (429 with Retry-After, 5xx, timeouts) belongs to the runner, which counts
/// and reports every attempt.
/// </summary>
public sealed class OpenAICompatibleChatClient : IChatClient
{
    private readonly ChatClient _client;
    private readonly OpenAICompatibleSettings _settings;

    private OpenAICompatibleChatClient(ChatClient client, OpenAICompatibleSettings settings)
    {
        _client = client;
        _settings = settings;
    }

    /// <summary>Creates the client, or says which environment variable is missing.</summary>
    public static (OpenAICompatibleChatClient? Client, string? Error) Create(OpenAICompatibleSettings settings, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var (key, error) = settings.ResolveApiKey();
        if (key is null)
        {
            return (null, error);
        }

        var options = new OpenAIClientOptions
        {
            Endpoint = settings.BaseUrl,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = timeout ?? TimeSpan.FromSeconds(100),
        };
        var client = new ChatClient(settings.Model, new ApiKeyCredential(key), options);
        return (new OpenAICompatibleChatClient(client, settings), null);
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        ChatCompletion completion;
        try
        {
            var result = await _client.CompleteChatAsync(ToOpenAI(messages), ToOpenAI(options), cancellationToken).ConfigureAwait(false);

            // The SDK reads a refusal, a missing or malformed content or an empty answer as the text "": each is a
            // failed call, never an output that an assertion such as not_contains could pass.
            if (OpenAICallErrors.CheckReply(result.GetRawResponse(), _settings) is { } failed)
            {
                throw failed;
            }

            completion = result.Value;
        }
        catch (Exception e) when (OpenAICallErrors.Translate(e, _settings, cancellationToken) is { } error)
        {
            throw error;
        }

        var text = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        return new ChatResponse(new AIChatMessage(AIChatRole.Assistant, text))
        {
            ModelId = completion.Model,
            ResponseId = completion.Id,
            FinishReason = completion.FinishReason switch
            {
                global::OpenAI.Chat.ChatFinishReason.Length => Microsoft.Extensions.AI.ChatFinishReason.Length,
                global::OpenAI.Chat.ChatFinishReason.ContentFilter => Microsoft.Extensions.AI.ChatFinishReason.ContentFilter,
                global::OpenAI.Chat.ChatFinishReason.ToolCalls => Microsoft.Extensions.AI.ChatFinishReason.ToolCalls,
                _ => Microsoft.Extensions.AI.ChatFinishReason.Stop,
            },
            Usage = completion.Usage is { } usage
                ? new UsageDetails { InputTokenCount = usage.InputTokenCount, OutputTokenCount = usage.OutputTokenCount, TotalTokenCount = usage.TotalTokenCount }
                : null,
        };
    }

    /// <summary>Evaluation needs whole answers: the response is produced whole and returned as one update.</summary>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<AIChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType == typeof(ChatClientMetadata)
            ? new ChatClientMetadata("openai-compatible", _settings.BaseUrl, _settings.Model)
            : serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static List<global::OpenAI.Chat.ChatMessage> ToOpenAI(IEnumerable<AIChatMessage> messages) =>
        [.. messages.Select(m => m.Role.Value switch
        {
            "system" => (global::OpenAI.Chat.ChatMessage)new SystemChatMessage(m.Text),
            "assistant" => new AssistantChatMessage(m.Text),
            _ => new UserChatMessage(m.Text),
        })];

    private static ChatCompletionOptions ToOpenAI(ChatOptions? options)
    {
        var result = new ChatCompletionOptions();
        if (options is null)
        {
            return result;
        }

        result.Temperature = options.Temperature;
        result.TopP = options.TopP;
        result.MaxOutputTokenCount = options.MaxOutputTokens;
        if (options.StopSequences is { Count: > 0 } stops)
        {
            foreach (var stop in stops)
            {
                result.StopSequences.Add(stop);
            }
        }

#pragma warning disable OPENAI001 // Seed is marked experimental by the SDK; deterministic judges need it.
        result.Seed = options.Seed;
#pragma warning restore OPENAI001
        return result;
    }
}
