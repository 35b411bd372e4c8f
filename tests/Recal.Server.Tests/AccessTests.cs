using System.Net;
using System.Net.Http.Headers;
using FluentAssertions;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>Tokens: the write token writes and reads, the read token only reads, anything else gets 401 before the body is read.</summary>
public sealed class AccessTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_request_without_a_token_or_with_a_wrong_or_read_only_token_cannot_export()
    {
        await using var server = await Harness.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = server.Url };
        using var wrong = Client(server, Harness.Token + "x");
        using var shorter = Client(server, Harness.Token[..^1]);
        using var reader = Client(server, Harness.ReadToken);
        var body = Spans.Traces(10, 0, 2);

        var responses = new[]
        {
            await anonymous.PostAsync("/v1/traces", Spans.Json(body), Cancel),
            await wrong.PostAsync("/v1/traces", Spans.Json(body), Cancel),
            await shorter.PostAsync("/v1/traces", Spans.Protobuf(body), Cancel),
            await reader.PostAsync("/v1/logs", Spans.Json(body), Cancel),
        };

        responses.Select(r => r.StatusCode).Should().AllBeEquivalentTo(HttpStatusCode.Unauthorized);
        responses.Should().AllSatisfy(r => r.Headers.WwwAuthenticate.ToString().Should().Be("Bearer"));
        foreach (var response in responses)
        {
            (await response.Content.ReadAsStringAsync(Cancel)).Should().NotContain(Harness.Token).And.NotContain(Harness.ReadToken);
        }

        (await Harness.StoredAsync(server.Store)).Should().BeEmpty();
    }

    [Fact]
    public async Task The_read_token_reads_the_dashboard_and_the_receiver_page_the_write_token_too_and_nobody_else()
    {
        await using var server = await Harness.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = server.Url };
        using var reader = Client(server, Harness.ReadToken);

        var denied = await anonymous.GetAsync("/", Cancel);
        var read = await reader.GetAsync("/", Cancel);
        var written = await server.Client.GetAsync("/", Cancel);
        var health = await anonymous.GetAsync("/healthz", Cancel);
        var receiver = await reader.GetStringAsync("/receiver", Cancel);

        denied.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        read.StatusCode.Should().Be(HttpStatusCode.OK);
        (await read.Content.ReadAsStringAsync(Cancel)).Should().Contain("Health — serve").And.NotContain(Harness.Token).And.NotContain(Harness.ReadToken);
        receiver.Should().Contain("Recal · serve").And.NotContain(Harness.Token);
        written.StatusCode.Should().Be(HttpStatusCode.OK);
        health.StatusCode.Should().Be(HttpStatusCode.OK);
        (await health.Content.ReadAsStringAsync(Cancel)).Should().Contain("\"status\":\"ok\"");
    }

    [Fact]
    public void A_server_needs_a_token_unless_told_otherwise_on_loopback_and_never_elsewhere()
    {
        new RecalServerOptions().Problems().Should().ContainSingle().Which.Should().Contain("RECAL_SERVER_TOKEN").And.Contain("--no-token");
        new RecalServerOptions { NoToken = true }.Problems().Should().BeEmpty();
        new RecalServerOptions { NoToken = true, Urls = ["http://[::1]:4318", "http://localhost:9000"] }.Problems().Should().BeEmpty();
        new RecalServerOptions { NoToken = true, Urls = ["http://0.0.0.0:4318"] }.Problems().Should().ContainSingle().Which.Should().Contain("loopback addresses only");
        new RecalServerOptions { WriteToken = "w", Urls = ["http://0.0.0.0:4318"] }.Problems().Should().BeEmpty();
        new RecalServerOptions { WriteToken = "same", ReadToken = "same" }.Problems().Should().ContainSingle().Which.Should().Contain("must differ");
        new RecalServerOptions { WriteToken = "w", Urls = ["127.0.0.1:4318"] }.Problems().Should().ContainSingle().Which.Should().Contain("not an http://");
        new RecalServerOptions { WriteToken = "w", Urls = ["https://127.0.0.1:4318"] }.Problems().Should().ContainSingle().Which.Should().Contain("TLS-terminating proxy");
    }

    [Fact]
    public async Task Recal_serve_refuses_to_start_without_a_token_or_open_on_another_address()
    {
        var folder = await Harness.NewProjectAsync("refuse");
        try
        {
            var open = await Harness.RunCliAsync("serve", "-p", folder, "--urls", "http://0.0.0.0:4318", "--no-token");

            open.Code.Should().Be(2);
            open.Error.Should().Contain("RC4001").And.Contain("loopback addresses only");
        }
        finally
        {
            Harness.Delete(folder);
        }
    }

    private static HttpClient Client(Harness server, string token)
    {
        var client = new HttpClient { BaseAddress = server.Url };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
