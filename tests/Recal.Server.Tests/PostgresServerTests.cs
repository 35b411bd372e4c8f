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
        using var password = new PasswordVariable(database.Password);
        var folder = await ProjectOnAsync(database, password, "serve-pg");
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

    [Fact]
    public async Task Two_receivers_into_one_database_under_concurrent_load_store_each_acknowledged_trace_once()
    {
        // Given two receivers, each with its own project (as on two machines), whose store: is the same database
        await using var database = await PostgresTestServer.CreateDatabaseAsync(Cancel);
        using var password = new PasswordVariable(database.Password);
        await using var first = await Harness.StartOnAsync(await ProjectOnAsync(database, password, "serve-pg-a"));
        await using var second = await Harness.StartOnAsync(await ProjectOnAsync(database, password, "serve-pg-b"));
        var receivers = new[] { first, second };

        // When eight clients post 120 requests of 40 one-span traces between them at once, every fourth request sent again
        // to the other receiver (a retry after a lost answer, or a collector that re-balanced)
        const int requests = 120, spans = 40;
        var answers = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            int k;
            while ((k = Interlocked.Increment(ref next)) < requests)
            {
                var body = Spans.Traces(11, k * spans, spans);
                answers.Add((await receivers[k % 2].Client.PostAsync("/v1/traces", Spans.Json(body), Cancel)).StatusCode);
                if (k % 4 == 0)
                {
                    answers.Add((await receivers[(k + 1) % 2].Client.PostAsync("/v1/traces", Spans.Json(body), Cancel)).StatusCode);
                }
            }
        }));

        // Then every request was acknowledged, each trace is stored once, and the daily rollup counts each once
        answers.Should().HaveCount(requests + (requests / 4)).And.OnlyContain(code => code == HttpStatusCode.OK);
        var stored = await Harness.StoredAsync(first.Store);
        stored.Should().HaveCount(requests * spans);
        stored.Keys.Should().BeEquivalentTo(Enumerable.Range(0, requests * spans).Select(n => "id:" + Spans.TraceId(11, n)));
        (await second.Store.CountTrafficAsync(new Storage.TrafficQuery(), Cancel)).Sum(c => c.Count).Should().Be(requests * spans);
        (await second.Store.GetTrafficSpanAsync(Cancel))!.Count.Should().Be(requests * spans);
    }

    /// <summary>A new project (recal init) whose store: is <paramref name="database"/>, its password through <paramref name="password"/>'s variable.</summary>
    private static async Task<string> ProjectOnAsync(ThrowawayDatabase database, PasswordVariable password, string name)
    {
        var folder = await Harness.NewProjectAsync(name);
        var url = $"postgres://{database.Username}@{database.Host}:{database.Port}/{database.Name}{(database.Password is null ? string.Empty : "?password_env=" + password.Name)}";
        var yaml = Path.Combine(folder, "recal.yaml");
        var text = await File.ReadAllTextAsync(yaml, Cancel);
        text.Should().Contain("store: .recal/recal.db");
        await File.WriteAllTextAsync(yaml, text.Replace("store: .recal/recal.db", "store: " + url, StringComparison.Ordinal), Cancel);
        return folder;
    }

    /// <summary>An environment variable holding the test database's password for the test's length (a URL never holds one).</summary>
    private sealed class PasswordVariable : IDisposable
    {
        public PasswordVariable(string? password)
        {
            Environment.SetEnvironmentVariable(Name, password);
        }

        public string Name { get; } = "RECAL_TEST_PG_PASSWORD_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

        public void Dispose() => Environment.SetEnvironmentVariable(Name, null);
    }
}
