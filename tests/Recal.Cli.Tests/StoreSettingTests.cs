using FluentAssertions;
using Recal.Project;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// The <c>store:</c> setting: SQLite by default or by path, PostgreSQL by URL, an unknown scheme or a password written in
/// it refused where it is written, a password never shown.
/// </summary>
public sealed class StoreSettingTests : IDisposable
{
    private const string Password = "pg-hunter2-secret";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-storeset-" + Guid.NewGuid().ToString("N")[..12]);

    public StoreSettingTests() => ProjectScaffolder.Scaffold(_folder, "demo").Should().BeEmpty();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private void SetStore(string value)
    {
        var path = Path.Combine(_folder, "recal.yaml");
        var text = File.ReadAllText(path);
        text.Should().MatchRegex("(?m)^store: ");
        File.WriteAllText(path, System.Text.RegularExpressions.Regex.Replace(text, "(?m)^store: .*$", "store: " + value));
    }

    /// <summary>A trace file of one trace, in the project folder.</summary>
    private async Task<string> OneTraceAsync()
    {
        var traces = Path.Combine(_folder, "t.jsonl");
        await File.WriteAllTextAsync(traces, """{"id":"a","timestamp":"2026-06-01T00:00:00Z","input":"how do I get a refund"}""" + "\n", TestContext.Current.CancellationToken);
        return traces;
    }

    [Fact]
    public async Task An_unknown_scheme_is_a_located_error_of_validate_and_of_every_command_without_its_password()
    {
        // Given a URI of a scheme no provider opens
        SetStore($"mysql://recal:{Password}@db.internal:3306/evals");
        var line = File.ReadAllLines(Path.Combine(_folder, "recal.yaml")).ToList().FindIndex(l => l.StartsWith("store:", StringComparison.Ordinal)) + 1;

        // When it is validated and commands that read and write the store run
        var validate = await CliRunner.RunAsync("validate", "-p", _folder);
        var status = await CliRunner.RunAsync("status", "-p", _folder);
        var drift = await CliRunner.RunAsync("drift", "-p", _folder);
        var check = await CliRunner.RunAsync("store", "check", "-p", _folder);

        // Then each names the setting, its line, what was given and the schemes there are, and never the password
        validate.Code.Should().Be(1);
        validate.Out.Should().Contain($"recal.yaml:{line}:").And.Contain("error RC1014").And.Contain("'store' names the scheme 'mysql'")
            .And.Contain("mysql://recal:***@db.internal:3306/evals").And.Contain("known schemes: postgres:, postgresql:, sqlite:");
        foreach (var result in new[] { status, drift, check })
        {
            result.Code.Should().Be(2, result.Out + result.Error);
            result.Error.Should().Contain($"recal.yaml:{line}:").And.Contain("error RC1014").And.Contain("known schemes: postgres:, postgresql:, sqlite:");
        }

        foreach (var text in new[] { validate.Out, validate.Error, status.Out, status.Error, drift.Out, drift.Error, check.Out, check.Error })
        {
            text.Should().NotContain(Password);
        }

        Directory.Exists(Path.Combine(_folder, ".recal")).Should().BeFalse("nothing is created for a store no provider opens");
    }

    [Fact]
    public async Task A_sqlite_uri_or_another_path_is_where_the_store_is_made()
    {
        // Given the store moved by a sqlite: URI
        SetStore("sqlite:data/evals.db");
        var traces = await OneTraceAsync();

        // When traces are ingested and the store checked
        var ingest = await CliRunner.RunAsync("ingest", traces, "-p", _folder);
        var validate = await CliRunner.RunAsync("validate", "-p", _folder);
        var check = await CliRunner.RunAsync("store", "check", "-p", _folder);

        // Then the store is that file
        ingest.Code.Should().Be(0, ingest.Error);
        validate.Code.Should().Be(0, validate.Out);
        File.Exists(Path.Combine(_folder, "data", "evals.db")).Should().BeTrue();
        File.Exists(Path.Combine(_folder, ".recal", "recal.db")).Should().BeFalse();
        check.Code.Should().Be(0, check.Error);
        check.Out.Should().Contain(Path.Combine(_folder, "data", "evals.db"));
    }

    [Fact]
    public async Task A_password_written_in_a_postgres_url_is_refused_where_it_is_written_and_never_shown()
    {
        // Given a PostgreSQL URL with the password in it, spelt out or as a query option
        foreach (var url in new[] { $"postgres://recal:{Password}@db.internal:5432/evals", $"postgresql://recal@db.internal/evals?password={Password}" })
        {
            SetStore(url);
            var line = File.ReadAllLines(Path.Combine(_folder, "recal.yaml")).ToList().FindIndex(l => l.StartsWith("store:", StringComparison.Ordinal)) + 1;

            // When it is validated and a command that reads the store runs
            var validate = await CliRunner.RunAsync("validate", "-p", _folder);
            var status = await CliRunner.RunAsync("status", "-p", _folder);

            // Then both name the setting and say where the password belongs, without it; nothing connects
            validate.Code.Should().Be(1, validate.Out);
            validate.Out.Should().Contain($"recal.yaml:{line}:").And.Contain("error RC1015").And.Contain("a secret does not belong in recal.yaml").And.Contain("password_env=");
            status.Code.Should().Be(2, status.Out + status.Error);
            status.Error.Should().Contain($"recal.yaml:{line}:").And.Contain("error RC1015");
            foreach (var text in new[] { validate.Out, validate.Error, status.Out, status.Error })
            {
                text.Should().NotContain(Password);
            }
        }
    }

    [Fact]
    public async Task A_postgres_server_that_does_not_answer_is_one_line_saying_so_with_what_to_do()
    {
        // Given a PostgreSQL URL on a port where nothing listens
        SetStore("postgres://recal@127.0.0.1:1/evals?connect_timeout=5");
        var traces = await OneTraceAsync();

        // When a command that writes and one that reads run
        var ingest = await CliRunner.RunAsync("ingest", traces, "-p", _folder);
        var check = await CliRunner.RunAsync("store", "check", "-p", _folder);

        // Then each says the server cannot be reached, where, and what to do, in one line and no stack trace
        foreach (var result in new[] { ingest, check })
        {
            result.Code.Should().Be(2, result.Out + result.Error);
            result.Error.Should().Contain("error RC3001").And.Contain("the PostgreSQL server cannot be reached (connection refused)")
                .And.Contain("postgres://recal@127.0.0.1:1/evals").And.Contain("start the server");
            result.Error.Should().NotContain("   at ");
        }
    }
}
