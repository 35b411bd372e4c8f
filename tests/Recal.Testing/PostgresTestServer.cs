using Npgsql;
using Xunit;

namespace Recal.Testing;

/// <summary>
/// The PostgreSQL server the tests use, named by <c>RECAL_TEST_POSTGRES</c>: a connection string or a
/// <c>postgres://USER[:PASSWORD]@HOST:PORT/</c> URL of a role that may create databases. Unset, the tests that need it
/// are skipped, unless <c>CI</c> or <c>RECAL_REQUIRE_POSTGRES=1</c> is set: then they fail and say so (docs/store.md#ci).
/// </summary>
public static class PostgresTestServer
{
    /// <summary>The variable naming the server.</summary>
    public const string Variable = "RECAL_TEST_POSTGRES";

    /// <summary>The variable that makes a missing server a failure rather than a skip (as <c>CI</c> does).</summary>
    public const string RequireVariable = "RECAL_REQUIRE_POSTGRES";

    /// <summary>The server's administrative connection (to its <c>postgres</c> database); skips or fails the test when there is none.</summary>
    public static NpgsqlConnectionStringBuilder Admin()
    {
        var value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            var ci = Environment.GetEnvironmentVariable("CI");
            var required = Environment.GetEnvironmentVariable(RequireVariable) == "1" || (!string.IsNullOrEmpty(ci) && !string.Equals(ci, "false", StringComparison.OrdinalIgnoreCase));
            const string What = $"{Variable} is not set: it names the PostgreSQL server the store tests create throwaway databases on (e.g. Host=127.0.0.1;Port=55432;Username=postgres; .ci/run starts one)";
            if (required)
            {
                throw new InvalidOperationException($"{What}, and {(Environment.GetEnvironmentVariable(RequireVariable) == "1" ? RequireVariable + "=1" : "CI")} requires these tests to run");
            }

            Assert.Skip(What);
        }

        var builder = value.Contains("://", StringComparison.Ordinal) ? FromUrl(value) : new NpgsqlConnectionStringBuilder(value);
        builder.Database = "postgres";
        builder.Pooling = false;
        return builder;
    }

    /// <summary>Creates a uniquely named, empty database on the server; disposing the result drops it.</summary>
    public static async Task<ThrowawayDatabase> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var admin = Admin();
        var name = "recal_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return new ThrowawayDatabase(admin, name);
    }

    private static NpgsqlConnectionStringBuilder FromUrl(string url)
    {
        var uri = new Uri(url);
        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host, Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        return builder;
    }
}

/// <summary>A database created for one test class, dropped (connections and all) when disposed.</summary>
public sealed class ThrowawayDatabase(NpgsqlConnectionStringBuilder admin, string name) : IAsyncDisposable
{
    public string Name { get; } = name;

    public string Host => admin.Host!;

    public int Port => admin.Port;

    public string? Username => admin.Username;

    /// <summary>The password of the test server's role, when it has one (pass it through a variable, never a URL).</summary>
    public string? Password => admin.Password;

    /// <summary>A connection string to this database with the store's schema on the search path.</summary>
    public string ConnectionString => new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = Name, Pooling = true, SearchPath = "recal" }.ConnectionString;

    /// <summary>Runs SQL in this database (outside any store).</summary>
    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = Name }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs a query in this database (outside any store) and returns its first column of its first row.</summary>
    public async Task<object?> ScalarAsync(string sql, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = Name }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
