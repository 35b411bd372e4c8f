using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using FluentAssertions;
using Xunit;

namespace Recal.Server.Tests;

/// <summary><c>recal serve</c> as a child process, killed with SIGKILL under load: nothing it acknowledged is lost.</summary>
public sealed class CrashTests
{
    private const int SpansPerRequest = 50;
    private const int Clients = 4;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_recal_serve_under_load_loses_no_acknowledged_span()
    {
        var folder = await Harness.NewProjectAsync("crash");
        try
        {
            var port = Harness.FreePort();
            using (var server = Serve(folder, port))
            {
                using var client = await ReadyClientAsync(server, port);
                var acknowledged = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
                var sent = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
                var unanswered = new ConcurrentBag<int>();
                var requests = 0;
                using var enough = new SemaphoreSlim(0);

                // Clients post until the server dies under them; some requests are in flight at the kill.
                var load = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
                {
                    for (var r = 0; ; r++)
                    {
                        var first = ((c * 100_000) + r) * SpansPerRequest;
                        foreach (var id in Ids(first))
                        {
                            sent[id] = true;
                        }

                        if (await PostAsync(client, first) is not { } acked)
                        {
                            unanswered.Add(first);
                            return;
                        }

                        if (acked)
                        {
                            foreach (var id in Ids(first))
                            {
                                acknowledged[id] = true;
                            }

                            if (Interlocked.Increment(ref requests) == 40)
                            {
                                enough.Release();
                            }
                        }
                    }
                }, Cancel)).ToArray();

                await enough.WaitAsync(Cancel);
                server.Kill(); // SIGKILL: no shutdown, no drain.
                await server.WaitForExitAsync(Cancel);
                await Task.WhenAll(load);

                var stored = await StoredIdsAsync(folder);
                acknowledged.Count.Should().BeGreaterThanOrEqualTo(40 * SpansPerRequest);
                stored.Should().Contain(acknowledged.Keys, "every span the server acknowledged was committed before its 200");
                stored.Should().BeSubsetOf(sent.Keys, "nothing is stored that was not sent");

                // Restarted on the same store, the server takes the clients' retries of what it never answered, as
                // an exporter retries; a request stored before the kill but not answered is merged, not doubled.
                using (var restarted = Serve(folder, port))
                {
                    using var again = await ReadyClientAsync(restarted, port);
                    foreach (var first in unanswered)
                    {
                        (await PostAsync(again, first)).Should().BeTrue();
                        foreach (var id in Ids(first))
                        {
                            acknowledged[id] = true;
                        }
                    }

                    restarted.Kill();
                    await restarted.WaitForExitAsync(Cancel);
                }

                var after = await StoredIdsAsync(folder);
                after.Should().HaveCount(acknowledged.Count, "the acknowledged span count equals the stored count");
                after.Should().BeEquivalentTo(acknowledged.Keys);
            }
        }
        finally
        {
            Harness.Delete(folder);
        }
    }

    private static IEnumerable<string> Ids(int first) => Enumerable.Range(first, SpansPerRequest).Select(n => Spans.TraceId(30, n));

    /// <summary>True when the request was answered 200 with nothing rejected, false for another answer, null for none (the server died).</summary>
    private static async Task<bool?> PostAsync(HttpClient client, int first)
    {
        try
        {
            var response = await client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(30, first, SpansPerRequest)), Cancel);
            return response.StatusCode == HttpStatusCode.OK && await response.Content.ReadAsStringAsync(Cancel) == "{}";
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return null;
        }
    }

    private static async Task<HashSet<string>> StoredIdsAsync(string folder) =>
        (await Harness.StoredAsync(folder)).Keys.Select(k => k["id:".Length..]).ToHashSet(StringComparer.Ordinal);

    /// <summary><c>dotnet recal.dll serve</c> on 127.0.0.1, without a token (loopback).</summary>
    private static Process Serve(string folder, int port)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "recal.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { cli, "serve", "-p", folder, "--urls", $"http://127.0.0.1:{port}", "--no-token" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment.Remove(RecalServerOptions.WriteTokenVariable);
        start.Environment.Remove(RecalServerOptions.ReadTokenVariable);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>A client once the server answers its health probe (or fails if the process exits first).</summary>
    private static async Task<HttpClient> ReadyClientAsync(Process server, int port)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        while (true)
        {
            server.HasExited.Should().BeFalse("recal serve should keep running");
            try
            {
                if ((await client.GetAsync("/healthz", Cancel)).IsSuccessStatusCode)
                {
                    return client;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100, Cancel);
        }
    }
}
