using FluentAssertions;
using Recal.Diagnostics;
using Recal.Project;
using Recal.Running;
using Recal.Storage;
using Xunit;

namespace Recal.Core.Tests.Storage;

public sealed class StoreLocationTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public StoreLocationTests() => ProjectScaffolder.Scaffold(_folder.Path, "demo").Should().BeEmpty();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("data/recal.db", "data/recal.db")]
    [InlineData("sqlite:data/recal.db", "data/recal.db")]
    [InlineData("SQLite:data/recal.db", "data/recal.db")]
    [InlineData("sqlite://data/recal.db", "data/recal.db")]
    [InlineData("C:recal.db", "C:recal.db")]
    public void A_path_or_a_sqlite_uri_is_the_sqlite_file_resolved_against_the_project(string written, string relative)
    {
        var location = StoreLocation.Parse(written, "/proj");

        location.Scheme.Should().Be("sqlite");
        location.IsFile.Should().BeTrue();
        location.Target.Should().Be(Path.GetFullPath(Path.Combine("/proj", relative)));
    }

    [Fact]
    public void An_absolute_sqlite_uri_keeps_its_absolute_path()
    {
        StoreLocation.Parse("sqlite:///var/lib/recal/store.db", "/proj").Target.Should().Be("/var/lib/recal/store.db");
    }

    [Fact]
    public void Another_scheme_keeps_the_uri_for_its_provider_and_prints_it_without_the_password()
    {
        var location = StoreLocation.Parse("Postgres://recal:s3cret-pw@db.internal:5432/evals?sslmode=require&password=other-secret", "/proj");

        location.Scheme.Should().Be("postgres");
        location.IsFile.Should().BeFalse();
        location.Target.Should().Contain("s3cret-pw");
        location.Display.Should().Be("Postgres://recal:***@db.internal:5432/evals?sslmode=require&password=***");
        location.ToString().Should().NotContain("s3cret-pw").And.NotContain("other-secret");
    }

    [Theory]
    [InlineData("postgres://db.internal/evals", "postgres://db.internal/evals")]
    [InlineData("postgres://recal@db.internal/evals", "postgres://recal@db.internal/evals")]
    [InlineData("postgres://recal:@db.internal/evals", "postgres://recal:***@db.internal/evals")]
    [InlineData("postgres://db/evals?token=abc;key=def", "postgres://db/evals?token=***;key=***")]
    public void Redaction_removes_only_the_secrets(string uri, string expected)
    {
        StoreLocation.Redact(uri).Should().Be(expected);
    }

    [Fact]
    public void Without_a_store_setting_or_with_the_starter_s_the_store_is_the_default_sqlite_file()
    {
        var starter = EvalProjectLoader.Load(_folder.Path).Project!.Settings;
        _folder.Replace("recal.yaml", "store: .recal/recal.db", string.Empty);
        var unset = EvalProjectLoader.Load(_folder.Path).Project!.Settings;

        foreach (var settings in new[] { starter, unset })
        {
            settings.Store.Scheme.Should().Be("sqlite");
            settings.Store.Target.Should().Be(Path.Combine(_folder.Path, ".recal", "recal.db"));
            settings.StorePath.Should().Be(settings.Store.Target);
        }

        unset.Store.Setting.Should().BeNull();
    }

    [Fact]
    public void The_store_setting_is_read_located_and_its_variables_expanded()
    {
        // Given a store URI whose password comes from a variable
        var variable = "RECAL_TEST_STORE_PW_" + Guid.NewGuid().ToString("N")[..8];
        Environment.SetEnvironmentVariable(variable, "pw-from-env-123");
        try
        {
            _folder.Replace("recal.yaml", "store: .recal/recal.db", $"store: postgres://recal:${{{variable}}}@db/evals");

            // When the project is loaded
            var result = EvalProjectLoader.Load(_folder.Path);

            // Then the location has the password, prints without it, points at its line, and the redactor knows it
            result.Diagnostics.Should().BeEmpty();
            var settings = result.Project!.Settings;
            settings.Store.Scheme.Should().Be("postgres");
            settings.Store.Target.Should().Be("postgres://recal:pw-from-env-123@db/evals");
            settings.Store.Display.Should().Be("postgres://recal:***@db/evals");
            settings.Store.Setting!.File.Should().Be("recal.yaml");
            settings.Store.Setting.Line.Should().NotBeNull();
            settings.StorePath.Should().Be(Path.Combine(_folder.Path, ".recal", "recal.db"));
            SecretRedactor.For(settings).Redact("connect to postgres://recal:pw-from-env-123@db failed: bad password pw-from-env-123")
                .Should().NotContain("pw-from-env-123");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void A_store_setting_naming_an_unset_variable_is_a_located_error()
    {
        _folder.Replace("recal.yaml", "store: .recal/recal.db", "store: postgres://recal:${RECAL_TEST_SURELY_UNSET_VAR}@db/evals");

        var result = EvalProjectLoader.Load(_folder.Path);

        result.Diagnostics.Should().ContainSingle(d => d.Code == "RC1504" && d.Message.Contains("RECAL_TEST_SURELY_UNSET_VAR") && d.Location!.File == "recal.yaml" && d.Location.Line != null);
    }

    [Fact]
    public void The_registry_knows_its_schemes_and_locates_an_unknown_one_without_its_password()
    {
        var stores = new StoreProviders([new FakeProvider("sqlite"), new FakeProvider("memory")]);
        var location = StoreLocation.Parse("postgress://recal:hunter2-pw@db/evals", "/proj", new SourceLocation("recal.yaml", 3, 8));

        var diagnostic = stores.Check(location);
        var thrown = FluentActions.Invoking(() => stores.Resolve(location)).Should().Throw<UnknownStoreSchemeException>().Which;

        stores.Schemes.Should().Equal("memory", "sqlite");
        stores.Check(StoreLocation.Parse("x.db", "/proj")).Should().BeNull();
        diagnostic!.Code.Should().Be(StoreProviders.UnknownScheme);
        diagnostic.Severity.Should().Be(Severity.Error);
        diagnostic.Location.Should().Be(new SourceLocation("recal.yaml", 3, 8));
        diagnostic.ToString().Should().Contain("'store'").And.Contain("'postgress'").And.Contain("postgress://recal:***@db/evals")
            .And.Contain("memory:, sqlite:").And.NotContain("hunter2-pw");
        thrown.ToDiagnostic().Should().Be(diagnostic);
        thrown.Message.Should().NotContain("hunter2-pw");
        FluentActions.Invoking(() => new StoreProviders([new FakeProvider("sqlite"), new FakeProvider("SQLite")])).Should().Throw<ArgumentException>();
    }

    private sealed class FakeProvider(string scheme) : IStoreProvider
    {
        public IReadOnlyList<string> Schemes { get; } = [scheme];

        public ValueTask<bool> ExistsAsync(StoreLocation location, CancellationToken cancellationToken = default) => ValueTask.FromResult(false);

        public Task<IRecalStore> OpenAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IRecalStore> OpenReadOnlyAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
