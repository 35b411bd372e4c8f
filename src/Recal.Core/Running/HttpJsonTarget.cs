using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Polly;
using Recal.Domain;
using Recal.Scoring;

namespace Recal.Running;

/// <summary>
/// A generic HTTP JSON target: the case's input is placed into a request template (<c>{{input}}</c>, written as a
/// JSON string) and POSTed; the answer is read at a JSON path of the response (<c>$.data.answer</c>).
/// </summary>
public sealed class HttpJsonTarget(HttpClient http, Uri url, string requestTemplate, string responsePath, ResiliencePipeline pipeline, CallGuard? guard = null, Func<HttpRequestMessage, CancellationToken, ValueTask>? prepare = null)
    : ITarget
{
    public const string InputPlaceholder = "{{input}}";

    public async ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        var body = requestTemplate.Replace(InputPlaceholder, JsonSerializer.Serialize(evalCase.Input.ClassificationText), StringComparison.Ordinal);
        var watch = Stopwatch.StartNew();
        var (text, attempts) = await (guard ?? CallGuard.None).ExecuteAsync(pipeline, t => SendAsync(body, t), url.ToString(), cancellationToken).ConfigureAwait(false);
        return new TargetResponse(text, watch.Elapsed, null, null, attempts, null);
    }

    private async Task<string> SendAsync(string body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (prepare is not null)
        {
            await prepare(request, cancellationToken).ConfigureAwait(false);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new TargetCallException($"{url}: {e.Message}", null, null, transient: true, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TargetCallException($"{url}: timed out", null, null, transient: true, e);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                var retryAfter = response.Headers.RetryAfter is { } header
                    ? header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null)
                    : null;
                throw new TargetCallException($"{url} answered {status} {response.StatusCode}", status, retryAfter, TargetCallException.IsTransientStatus(status));
            }

            try
            {
                using var document = JsonDocument.Parse(text);
                if (!AssertionScorer.TryResolve(document.RootElement, responsePath, out var value, out var error))
                {
                    throw new TargetCallException($"{url}: {error}", status, null, transient: false);
                }

                // A null or empty answer is a failed call: scored as "" or "null", not_contains and the like would pass it.
                var answer = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString()!,
                    JsonValueKind.Null => throw new TargetCallException($"{url}: the response's {responsePath} is null", status, null, transient: false),
                    _ => value.GetRawText(),
                };
                return string.IsNullOrWhiteSpace(answer)
                    ? throw new TargetCallException($"{url}: the response's {responsePath} is an empty answer", status, null, transient: false)
                    : answer;
            }
            catch (JsonException e)
            {
                // A truncated or malformed body is usually a transport hiccup: worth one more try.
                throw new TargetCallException(string.Create(CultureInfo.InvariantCulture, $"{url}: the response is not JSON ({e.Message})"), status, null, transient: true, e);
            }
        }
    }
}
