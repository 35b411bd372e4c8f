using FluentAssertions;
using Npgsql;
using Xunit;

namespace Recal.Storage.Postgres.Tests;

/// <summary>The server's and the network's failures as one line each, with what to do; other failures are not this provider's.</summary>
public sealed class ExplainTests
{
    private const string Display = "postgres://recal@db.internal:6543/evals";

    private static readonly StoreLocation Location = StoreLocation.Parse(Display, "/project");

    private static StoreException Explained(Exception exception) => new PostgresStoreProvider().Explain(exception, Location)!;

    private static PostgresException Server(string sqlState, string message) => new(message, "FATAL", "FATAL", sqlState);

    [Fact]
    public async Task A_refused_connection_says_the_server_cannot_be_reached()
    {
        // Given a real attempt on a port where nothing listens
        var location = StoreLocation.Parse("postgres://recal@127.0.0.1:1/evals?connect_timeout=5", "/project");
        var act = () => new PostgresStoreProvider(_ => null).OpenAsync(location, cancellationToken: TestContext.Current.CancellationToken);

        // Then the open fails with one line that names the store and the cause
        var error = (await act.Should().ThrowAsync<StoreException>()).Which;
        error.Code.Should().Be(StoreException.CannotOpen);
        error.Message.Should().Be("the PostgreSQL server cannot be reached (connection refused)");
        error.Path.Should().Be("postgres://recal@127.0.0.1:1/evals?connect_timeout=5");
        error.Hint.Should().Contain("start the server");
    }

    [Theory]
    [InlineData(PostgresErrorCodes.InvalidPassword)]
    [InlineData(PostgresErrorCodes.InvalidAuthorizationSpecification)]
    public void A_failed_login_points_at_the_user_and_the_password_variable(string sqlState)
    {
        var error = Explained(Server(sqlState, "password authentication failed for user \"recal\""));

        error.Code.Should().Be(StoreException.CannotOpen);
        error.Message.Should().Be($"PostgreSQL refused the login (PostgreSQL {sqlState}: password authentication failed for user \"recal\")");
        error.Path.Should().Be(Display);
        error.Hint.Should().Contain("password_env").And.Contain("PGPASSWORD");
    }

    [Fact]
    public void A_missing_database_says_how_to_create_it()
    {
        var error = Explained(Server(PostgresErrorCodes.InvalidCatalogName, "database \"evals\" does not exist"));

        error.Code.Should().Be(StoreException.CannotOpen);
        error.Message.Should().StartWith("the database does not exist");
        error.Hint.Should().Contain("createdb -h db.internal -p 6543 -U recal evals");
    }

    [Fact]
    public void A_full_disk_is_a_failed_write_and_a_corrupt_index_a_damaged_store()
    {
        Explained(Server(PostgresErrorCodes.DiskFull, "could not extend file")).Code.Should().Be(StoreException.WriteFailed);
        Explained(Server(PostgresErrorCodes.IndexCorrupted, "index is corrupted")).Code.Should().Be(StoreException.Damaged);
        Explained(Server(PostgresErrorCodes.CannotConnectNow, "the database system is starting up")).Hint.Should().Contain("wait for the server");
    }

    [Fact]
    public void Explains_its_own_engine_failures_only()
    {
        new PostgresStoreProvider().Explain(new InvalidOperationException("x"), Location).Should().BeNull();
        new PostgresStoreProvider().Explain(new IOException("disk"), Location).Should().BeNull();
    }
}
