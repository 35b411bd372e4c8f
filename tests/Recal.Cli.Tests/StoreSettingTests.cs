using FluentAssertions;
using Recal.Project;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>The <c>store:</c> setting: SQLite by default or by path, an unknown scheme refused where it is written, its password never shown.</summary>
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
        text.Should().Contain("store: .recal/recal.db");
        File.WriteAllText(path, text.Replace("store: .recal/recal.db", "store: " + value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_scheme_is_a_located_error_of_validate_and_of_every_command_without_its_password()
    {
        // Given a PostgreSQL URI before there is a provider for it
        SetStore($"postgres://recal:{Password}@db.internal:5432/evals");
        var line = File.ReadAllLines(Path.Combine(_folder, "recal.yaml")).ToList().FindIndex(l => l.StartsWith("store:", StringComparison.Ordinal)) + 1;

        // When it is validated and commands that read and write the store run
        var validate = await CliRunner.RunAsync("validate", "-p", _folder);
        var status = await CliRunner.RunAsync("status", "-p", _folder);
        var drift = await CliRunner.RunAsync("drift", "-p", _folder);
        var check = await CliRunner.RunAsync("store", "check", "-p", _folder);

        // Then each names the setting, its line, what was given and the schemes there are, and never the password
        validate.Code.Should().Be(1);
        validate.Out.Should().Contain($"recal.yaml:{line}:").And.Contain("error RC1014").And.Contain("'store' names the scheme 'postgres'")
            .And.Contain("postgres://recal:***@db.internal:5432/evals").And.Contain("known schemes: sqlite:");
        foreach (var result in new[] { status, drift, check })
        {
            result.Code.Should().Be(2, result.Out + result.Error);
            result.Error.Should().Contain($"recal.yaml:{line}:").And.Contain("error RC1014").And.Contain("known schemes: sqlite:");
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
        var traces = Path.Combine(_folder, "t.jsonl");
        await File.WriteAllTextAsync(traces, """{"id":"a","timestamp":"2026-06-01T00:00:00Z","input":"how do I get a refund"}""" + "\n", TestContext.Current.CancellationToken);

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
}
