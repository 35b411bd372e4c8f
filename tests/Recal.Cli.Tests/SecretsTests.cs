using System.Text;
using FluentAssertions;
using Recal.Project;
using Recal.Testing;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// A unique marker in every setting that can carry a secret, against a loopback endpoint that echoes the credentials
/// it receives in its error messages (as real providers do): no marker may reach the store, the caches, the output or
/// any report.
/// </summary>
public sealed class SecretsTests : IDisposable
{
    private static readonly Dictionary<string, string> Markers = new(StringComparer.Ordinal)
    {
        ["RECAL_SECRET_TEST_OPENAI_KEY"] = "sk-mrkOpenaiKey4f1c2d",
        ["RECAL_SECRET_TEST_QUERY"] = "mrkQueryValue8e21",
        ["RECAL_SECRET_TEST_PASS"] = "mrkUserPass3b7a",
        ["RECAL_SECRET_TEST_TOKEN"] = "mrkHeaderToken9d04",
        ["RECAL_SECRET_TEST_HTTP_KEY"] = "mrkHttpKey6c55",
        ["RECAL_SECRET_TEST_EMBED_KEY"] = "mrkEmbedKey2a9f",
    };

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-secrets-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        foreach (var name in Markers.Keys)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    [Fact]
    public async Task No_configured_secret_reaches_the_store_the_output_or_any_report()
    {
        // Given a project whose targets and embedder carry a marker in every secret-bearing setting, and an endpoint
        // that answers 401 quoting the credentials it got
        await using var server = new FakeOpenAIServer
        {
            Respond = r => new FakeReply(401, $$$"""{"error":{"message":"Incorrect API key provided: {{{r.Authorization}}} for {{{r.Path}}}"}}"""),
        };
        foreach (var (name, value) in Markers)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        ProjectScaffolder.Scaffold(_folder, "secrets").Should().BeEmpty();
        var url = server.BaseUrl.ToString();
        var authority = server.BaseUrl.Authority;
        File.AppendAllText(Path.Combine(_folder, "recal.yaml"), """

            run:
              retries: 0
            targets:
              keyed:
                type: openai
                base_url: @URL@
                model: bot
                api_key_env: RECAL_SECRET_TEST_OPENAI_KEY
              query:
                type: openai
                base_url: @URL@?api_key=${RECAL_SECRET_TEST_QUERY}
                model: bot
              userinfo:
                type: openai
                base_url: http://robot:${RECAL_SECRET_TEST_PASS}@@AUTHORITY@/v1/
                model: bot
              http:
                type: http
                url: @URL@answer?token=${RECAL_SECRET_TEST_QUERY}
                request: '{"q": {{input}}}'
                response_path: $.answer
                api_key_env: RECAL_SECRET_TEST_HTTP_KEY
                headers:
                  X-Api-Token: ${RECAL_SECRET_TEST_TOKEN}
            embeddings:
              type: openai
              base_url: @URL@
              model: embedder
              api_key_env: RECAL_SECRET_TEST_EMBED_KEY
            """.Replace("@URL@", url, StringComparison.Ordinal).Replace("@AUTHORITY@", authority, StringComparison.Ordinal));
        var traces = Path.Combine(_folder, "traces.jsonl");
        File.WriteAllLines(traces, Enumerable.Range(0, 20).Select(i => $$"""{"id":"t{{i}}","timestamp":"2026-06-0{{1 + (i % 5)}}T00:00:00Z","input":"refund request {{i}}"}"""));

        // When every command that touches them runs, with every report format
        var outputs = new List<string>();
        async Task Run(params string[] args)
        {
            var result = await CliRunner.RunAsync([.. args, "-p", _folder]);
            outputs.Add(result.Out);
            outputs.Add(result.Error);
        }

        await Run("validate");
        await Run("ingest", traces);
        foreach (var target in new[] { "keyed", "query", "userinfo", "http" })
        {
            await Run("run", "--target", target, "--no-judge");
            await Run("report", "--full", "--json", Path.Combine(_folder, $"{target}.json"), "--markdown", Path.Combine(_folder, $"{target}.md"), "--html", Path.Combine(_folder, $"{target}.html"));
        }

        await Run("coverage");
        await Run("check");

        // Then the endpoint did receive the credentials, yet no marker is anywhere Recal wrote
        server.Requests.Should().Contain(r => r.Authorization != null && r.Authorization.Contains(Markers["RECAL_SECRET_TEST_OPENAI_KEY"], StringComparison.Ordinal));
        var written = Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories).Where(f => f != traces && !f.EndsWith(".yaml", StringComparison.Ordinal)).ToList();
        written.Should().Contain(f => f.EndsWith("recal.db", StringComparison.Ordinal));
        foreach (var (name, marker) in Markers)
        {
            var needles = new[] { marker, Uri.EscapeDataString(marker) }.Select(Encoding.UTF8.GetBytes).Append(Encoding.Unicode.GetBytes(marker)).ToList();
            foreach (var file in written)
            {
                var bytes = File.ReadAllBytes(file);
                needles.Where(n => bytes.AsSpan().IndexOf(n) >= 0).Should().BeEmpty($"{name}'s value must not be in {Path.GetRelativePath(_folder, file)}");
            }

            outputs.Should().NotContain(o => o.Contains(marker, StringComparison.OrdinalIgnoreCase), $"{name}'s value must not be printed");
        }
    }

    [Fact]
    public async Task A_key_pasted_into_api_key_env_is_refused_without_being_printed()
    {
        var validate = await ValidateWithAsync("""

            targets:
              bot:
                type: openai
                base_url: http://127.0.0.1:9/v1
                model: bot
                api_key_env: sk-pastedKey5e7d01a
            """);

        validate.Code.Should().Be(1);
        (validate.Out + validate.Error).Should().Contain("RC1507").And.NotContain("sk-pastedKey5e7d01a").And.NotContain("pastedKey");
    }

    [Fact]
    public async Task A_literal_credential_in_headers_warns()
    {
        var validate = await ValidateWithAsync("""

            targets:
              bot:
                type: http
                url: http://127.0.0.1:9/answer
                request: '{"q": {{input}}}'
                response_path: $.answer
                headers:
                  Authorization: Bearer abcdef123456
            """);

        (validate.Out + validate.Error).Should().Contain("warning RC1508").And.Contain("Authorization").And.NotContain("abcdef123456");
    }

    /// <summary>Validates a new project with <paramref name="yaml"/> appended to its recal.yaml.</summary>
    private async Task<(int Code, string Out, string Error)> ValidateWithAsync(string yaml)
    {
        ProjectScaffolder.Scaffold(_folder, "secrets").Should().BeEmpty();
        File.AppendAllText(Path.Combine(_folder, "recal.yaml"), "\n" + yaml + "\n");
        return await CliRunner.RunAsync("validate", "-p", _folder);
    }
}
