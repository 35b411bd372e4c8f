using System.Diagnostics;
using Microsoft.Extensions.AI;
using Polly;
using Recal.Domain;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Recal.Running;

/// <summary>What a target answered for one case, and what it cost.</summary>
public sealed record TargetResponse(string Text, TimeSpan Latency, long? InputTokens, long? OutputTokens, int Attempts, string? Model);

/// <summary>
/// A chat target: the system under test behind an <see cref="IChatClient"/>. The case's input becomes the user
/// turn (or the conversation), after an optional system prompt; every call goes through the retry pipeline.
/// </summary>
public sealed class ChatTarget(IChatClient client, ResiliencePipeline pipeline, ChatOptions? options = null, string? systemPrompt = null)
{
    public async ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrWhiteSpace(systemPrompt))
        {
            messages.Add(new ChatMessage(ChatRole.System, systemPrompt));
        }

        if (evalCase.Input.Text is { } text)
        {
            messages.Add(new ChatMessage(ChatRole.User, text));
        }
        else
        {
            messages.AddRange(evalCase.Input.Messages!.Select(m => new ChatMessage(new ChatRole(m.Role), m.Content)));
        }

        var attempts = 0;
        var watch = Stopwatch.StartNew();
        var response = await pipeline.ExecuteAsync(
            async token =>
            {
                attempts++;
                return await client.GetResponseAsync(messages, options, token).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return new TargetResponse(response.Text, watch.Elapsed, response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount, attempts, response.ModelId);
    }
}
