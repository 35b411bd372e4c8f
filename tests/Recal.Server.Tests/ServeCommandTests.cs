using System.Net;
using System.Net.Http.Headers;
using FluentAssertions;
using Recal.Cli;
using Xunit;

namespace Recal.Server.Tests;

/// <summary><c>recal serve</c> run in-process: it serves, logs when asked (never a header), and a stop drains what it accepted.</summary>
public sealed class ServeCommandTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Recal_serve_stores_what_it_acknowledged_and_stops_on_cancel_with_its_log_free_of_headers()
    {
        var folder = await Harness.NewProjectAsync("command");
        try
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var errorConsole = Harness.Console(error);
            var context = new CliContext(Harness.Console(output), errorConsole) { Logger = ConsoleLogger.For("information", errorConsole) };
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
            var port = Harness.FreePort();
            var serving = RecalCli.RunAsync(["serve", "-p", folder, "--urls", $"http://127.0.0.1:{port}", "--no-token"], context, stop.Token);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "a-header-that-must-not-be-logged");
            while (true)
            {
                serving.IsCompleted.Should().BeFalse(error.ToString());
                try
                {
                    if ((await client.GetAsync("/healthz", Cancel)).IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }

                await Task.Delay(50, Cancel);
            }

            var response = await client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(40, 0, 5)), Cancel);
            await stop.CancelAsync();
            var code = await serving;

            response.StatusCode.Should().Be(HttpStatusCode.OK);
            code.Should().Be(0);
            output.ToString().Should().Contain($"Serving command on http://127.0.0.1:{port} (no token (loopback only))").And.Contain("Stopped; every acknowledged request is stored.");
            error.ToString().Should().Contain("info: Recal[").And.Contain("/v1/traces").And.NotContain("a-header-that-must-not-be-logged");
            (await Harness.StoredAsync(folder)).Should().HaveCount(5);
        }
        finally
        {
            Harness.Delete(folder);
        }
    }

    [Fact]
    public async Task An_address_already_taken_is_refused_with_RC4002_and_exit_code_2()
    {
        var folder = await Harness.NewProjectAsync("taken");
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var port = ((IPEndPoint)taken.LocalEndpoint).Port;

            var (code, _, error) = await Harness.RunCliAsync("serve", "-p", folder, "--urls", $"http://127.0.0.1:{port}", "--no-token");

            code.Should().Be(2);
            error.Should().Contain("RC4002").And.Contain($"cannot listen on http://127.0.0.1:{port}");
        }
        finally
        {
            taken.Stop();
            Harness.Delete(folder);
        }
    }
}
