using FluentAssertions;
using Npgsql;
using Recal.Diagnostics;
using Xunit;

namespace Recal.Storage.Postgres.Tests;

/// <summary>The <c>postgres://</c> store URL: read, checked where it is written, and its password taken only from the environment.</summary>
public sealed class PostgresLocationTests
{
    private const string Secret = "pg-hunter2-secret";

    private static readonly SourceLocation Setting = new("recal.yaml", 5, 8);

    private static StoreLocation At(string url) => StoreLocation.Parse(url, "/project", Setting);

    private static PostgresLocation Parsed(string url)
    {
        var parsed = PostgresLocation.TryParse(At(url), out var error);
        error.Should().BeNull();
        return parsed!;
    }

    private static Diagnostic Refused(string url)
    {
        PostgresLocation.TryParse(At(url), out var error).Should().BeNull();
        error!.Location.Should().Be(Setting);
        return error;
    }

    [Fact]
    public void Reads_user_host_port_database_and_options()
    {
        var location = Parsed("postgres://recal@db.internal:6543/evals?sslmode=verify-full&connect_timeout=7&application_name=ci&password_env=RECAL_PG_PASSWORD");

        location.Should().Be(new PostgresLocation("db.internal", 6543, "evals", "recal", "RECAL_PG_PASSWORD", SslMode.VerifyFull, 7, "ci"));
        location.PasswordSource.Should().Be("RECAL_PG_PASSWORD");
    }

    [Fact]
    public void Takes_the_default_port_both_schemes_escaped_names_and_no_user()
    {
        Parsed("postgresql://eval%20owner@db/eval%2Dset").Should().Be(new PostgresLocation("db", 5432, "eval-set", "eval owner", null, null, null, "recal"));
        Parsed("postgres://127.0.0.1/evals").User.Should().BeNull();
        Parsed("postgres://db/evals").PasswordSource.Should().Be("PGPASSWORD");
    }

    [Fact]
    public void Reads_the_password_from_the_variable_password_env_names_and_else_from_pgpassword()
    {
        var environment = new Dictionary<string, string> { ["RECAL_PG_PASSWORD"] = Secret, ["PGPASSWORD"] = "other" };

        var named = new NpgsqlConnectionStringBuilder(Parsed("postgres://recal@db/evals?password_env=RECAL_PG_PASSWORD").ConnectionString("display", environment.GetValueOrDefault));
        var fallback = new NpgsqlConnectionStringBuilder(Parsed("postgres://recal@db/evals").ConnectionString("display", environment.GetValueOrDefault));
        var none = new NpgsqlConnectionStringBuilder(Parsed("postgres://recal@db/evals").ConnectionString("display", _ => null));

        named.Password.Should().Be(Secret);
        named.Should().Match<NpgsqlConnectionStringBuilder>(b => b.Host == "db" && b.Database == "evals" && b.Username == "recal" && b.SearchPath == PostgresStore.Schema);
        fallback.Password.Should().Be("other");
        none.Password.Should().BeNull();
    }

    [Fact]
    public void A_named_password_variable_that_is_unset_is_a_store_error_naming_the_variable()
    {
        var act = () => Parsed("postgres://recal@db/evals?password_env=RECAL_PG_PASSWORD").ConnectionString("postgres://recal@db/evals?password_env=RECAL_PG_PASSWORD", _ => null);

        var error = act.Should().Throw<StoreException>().Which;
        error.Code.Should().Be(StoreException.CannotOpen);
        error.Message.Should().Contain("RECAL_PG_PASSWORD").And.Contain("not set");
        error.Hint.Should().Contain("set RECAL_PG_PASSWORD");
    }

    [Theory]
    [InlineData($"postgres://recal:{Secret}@db.internal:5432/evals")]
    [InlineData($"postgres://recal@db.internal/evals?password={Secret}")]
    [InlineData($"postgresql://recal@db.internal/evals?sslmode=require&PWD={Secret}")]
    public void A_password_written_in_the_url_is_refused_where_it_is_written_and_not_repeated(string url)
    {
        var error = Refused(url);

        error.Code.Should().Be(PostgresLocation.PasswordInConfig);
        error.Message.Should().Contain("a secret does not belong in recal.yaml").And.Contain("***").And.NotContain(Secret);
        error.Hint.Should().Contain("postgres://recal@db.internal").And.Contain("password_env=").And.NotContain(Secret);
        At(url).Display.Should().NotContain(Secret);
    }

    [Theory]
    [InlineData("postgres://recal@db.internal", "names no database")]
    [InlineData("postgres://recal@db.internal/a/b", "more than one path segment")]
    [InlineData("postgres://recal@db.internal/evals?sslmod=require", "did you mean 'sslmode'")]
    [InlineData("postgres://recal@db.internal/evals?sslmode=always", "verify-full")]
    [InlineData("postgres://recal@db.internal/evals?connect_timeout=soon", "whole number of seconds")]
    [InlineData("postgres://recal@db.internal/evals?password_env=1BAD-NAME", "must name an environment variable")]
    [InlineData("postgres:evals", "names no host")]
    public void A_url_recal_cannot_read_is_a_located_error_saying_what_would_be_right(string url, string expected)
    {
        var error = Refused(url);

        error.Code.Should().Be(PostgresLocation.MalformedUrl);
        (error.Message + " " + error.Hint).Should().Contain(expected);
    }

    [Fact]
    public async Task The_provider_opens_both_schemes_and_reports_its_check_through_the_host()
    {
        var providers = new StoreProviders([new PostgresStoreProvider()]);

        providers.Schemes.Should().Equal("postgres", "postgresql");
        providers.Check(At("postgres://recal@db/evals")).Should().BeNull();
        providers.Check(At($"postgres://recal:{Secret}@db/evals"))!.Code.Should().Be(PostgresLocation.PasswordInConfig);
        var open = () => new PostgresStoreProvider().OpenAsync(At($"postgres://recal:{Secret}@db/evals"), cancellationToken: TestContext.Current.CancellationToken);
        (await open.Should().ThrowAsync<StoreSettingException>()).Which.ToDiagnostic().Location.Should().Be(Setting);
    }
}
