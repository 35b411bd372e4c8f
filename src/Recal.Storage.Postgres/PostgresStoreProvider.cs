using Recal.Diagnostics;

namespace Recal.Storage.Postgres;

/// <summary>
/// Opens the PostgreSQL store: <c>postgres://USER@HOST[:PORT]/DB</c> (or <c>postgresql://</c>) in the <c>store:</c>
/// setting, the password from the environment variable <c>password_env</c> names, else <c>PGPASSWORD</c>. A password
/// written in the URL is refused (RC1015) before anything connects; the server's failures are explained as RC30xx.
/// </summary>
/// <param name="environment">Reads an environment variable (the process's by default; tests give their own).</param>
public sealed class PostgresStoreProvider(Func<string, string?>? environment = null) : IStoreProvider
{
    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;

    public IReadOnlyList<string> Schemes { get; } = ["postgres", "postgresql"];

    /// <summary>The URL's located error (a password in it, no database, an unknown option); null when it is one Recal reads.</summary>
    public Diagnostic? Check(StoreLocation location)
    {
        PostgresLocation.TryParse(location, out var error);
        return error;
    }

    public async ValueTask<bool> ExistsAsync(StoreLocation location, CancellationToken cancellationToken = default) =>
        await PostgresStore.ExistsAsync(ConnectionString(location), location.Display, cancellationToken).ConfigureAwait(false);

    public async Task<IRecalStore> OpenAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default) =>
        await PostgresStore.OpenAsync(ConnectionString(location), location.Display, cancellationToken).ConfigureAwait(false);

    public async Task<IRecalStore> OpenReadOnlyAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default) =>
        await PostgresStore.OpenReadOnlyAsync(ConnectionString(location), location.Display, cancellationToken).ConfigureAwait(false);

    /// <summary>For writing when the role may write the caches, else read-only (a role granted SELECT alone reads the store).</summary>
    public async Task<IRecalStore> OpenForCachingAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default) =>
        await PostgresStore.OpenForCachingAsync(ConnectionString(location), location.Display, cancellationToken).ConfigureAwait(false);

    public StoreException? Explain(Exception exception, StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return PostgresStore.Explain(exception, location.Display);
    }

    /// <summary>The connection string of a checked URL, its password read from the environment; a bad URL is a <see cref="StoreException"/> carrying its diagnostic.</summary>
    internal string ConnectionString(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        var parsed = PostgresLocation.TryParse(location, out var error) ?? throw new StoreSettingException(error!, location);
        return parsed.ConnectionString(location.Display, _environment);
    }
}
