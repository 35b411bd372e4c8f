using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
            var port = FreePort();
            using (var server = Serve(folder, port))
            {
                using var client = await ReadyClientAsync(server, port);
                var acknowledged = new ConcurrentBag<string>();
                var sent = new ConcurrentBag<string>();
                var requests = 0;
                using var enough = new SemaphoreSlim(0);

                // Clients post until the server dies under them; some requests are in flight at the kill.
                var load = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
                {
                    for (var r = 0; ; r++)
                    {
                        var first = ((c * 100_000) + r) * SpansPerRequest;
                        var ids = Enumerable.Range(first, SpansPerRequest).Select(n => Spans.TraceId(30, n)).ToList();
                        ids.ForEach(sent.Add);
                        HttpResponseMessage response;
                        string answer;
                        try
                        {
                            response = await client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(30, first, SpansPerRequest)), Cancel);
                            answer = await response.Content.ReadAsStringAsync(Cancel);
                        }
                        catch (Exception e) when (e is HttpRequestException or IOException)
                        {
                            return;
                        }

                        // A 200 whose body is "{}" rejected nothing: all its spans are acknowledged.
                        if (response.StatusCode == HttpStatusCode.OK && answer == "{}")
                        {
                            ids.ForEach(acknowledged.Add);
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

                // Restarted on the same store, the server opens it and takes requests again.
                var after = Spans.TraceId(30, 99_999_999);
                using (var restarted = Serve(folder, port))
                {
                    using var again = await ReadyClientAsync(restarted, port);
                    var response = await again.PostAsync("/v1/traces", Spans.Json(Spans.Request([Spans.ChatSpan(after, "00000000000000ff", 1)])), Cancel);
                    response.StatusCode.Should().Be(HttpStatusCode.OK);
                    restarted.Kill();
                    await restarted.WaitForExitAsync(Cancel);
                }

                var stored = (await Harness.StoredAsync(folder)).Keys.Select(k => k["id:".Length..]).ToHashSet(StringComparer.Ordinal);
                acknowledged.Count.Should().BeGreaterThanOrEqualTo(40 * SpansPerRequest);
                stored.Should().Contain(acknowledged, "every span the server acknowledged was committed before its 200");
                stored.Should().Contain(after);
                stored.Except([after]).Should().BeSubsetOf(sent, "nothing is stored that was not sent");

                // Only requests in flight at the kill may be stored without their client having heard so.
                (stored.Count - 1 - acknowledged.Count).Should().BeLessThanOrEqualTo(Clients * SpansPerRequest);
            }
        }
        finally
        {
            Harness.Delete(folder);
        }
    }

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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
