using System.Net;
using FluentAssertions;
using Recal.Testing;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>recal serve on a project whose store is PostgreSQL: the receiver commits into it and the dashboard reads it (skipped without RECAL_TEST_POSTGRES, as the store's tests are).</summary>
public sealed class PostgresServerTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_receiver_stores_into_postgres_and_the_dashboard_reads_it_back()
    {
        // Given a new project whose store: names a throwaway PostgreSQL database (its password through a variable)
        await using var database = await PostgresTestServer.CreateDatabaseAsync(Cancel);
        var variable = "RECAL_TEST_PG_PASSWORD_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, database.Password);
        var folder = await Harness.NewProjectAsync("serve-pg");
        try
        {
            var url = $"postgres://{database.Username}@{database.Host}:{database.Port}/{database.Name}{(database.Password is null ? string.Empty : "?password_env=" + variable)}";
            var yaml = Path.Combine(folder, "recal.yaml");
            var text = await File.ReadAllTextAsync(yaml, Cancel);
            text.Should().Contain("store: .recal/recal.db");
            await File.WriteAllTextAsync(yaml, text.Replace("store: .recal/recal.db", "store: " + url, StringComparison.Ordinal), Cancel);
            await using var server = await Harness.StartOnAsync(folder);

            // When spans are exported to it, and the dashboard's views are asked for
            var export = await server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(7, 0, 12)), Cancel);
            var health = await server.Client.GetAsync("/", Cancel);
            var traces = await server.Client.GetStringAsync("/traces?from=2000-01-01", Cancel);

            // Then the spans are in PostgreSQL when acknowledged, and the views read them from there
            export.StatusCode.Should().Be(HttpStatusCode.OK);
            (await Harness.StoredAsync(server.Store)).Should().HaveCount(12);
            File.Exists(Path.Combine(folder, ".recal", "recal.db")).Should().BeFalse("the traces are in PostgreSQL");
            health.StatusCode.Should().Be(HttpStatusCode.OK);
            traces.Should().Contain("12 trace(s) match of 12 in the window from 2000-01-01 to the newest trace");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
