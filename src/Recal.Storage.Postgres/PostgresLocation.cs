using System.Globalization;
using Npgsql;
using Recal.Diagnostics;

namespace Recal.Storage.Postgres;

/// <summary>
/// A <c>postgres://USER@HOST[:PORT]/DB[?OPTIONS]</c> store URL, read and checked. The URL carries no secret: the password
/// comes from the environment variable <c>password_env</c> names, else from <c>PGPASSWORD</c> (docs/store.md#postgresql).
/// </summary>
/// <param name="User">The role to connect as; null leaves it to Npgsql (<c>PGUSER</c>, else the user running Recal).</param>
/// <param name="PasswordVariable">The variable <c>password_env</c> names; null when the URL names none.</param>
/// <param name="SslMode">The <c>sslmode</c> option; null for Npgsql's default (prefer).</param>
/// <param name="ConnectTimeout">The <c>connect_timeout</c> option in seconds; null for Npgsql's default (15).</param>
/// <param name="ApplicationName">The <c>application_name</c> option; <c>recal</c> by default.</param>
public sealed record PostgresLocation(string Host, int Port, string Database, string? User, string? PasswordVariable, SslMode? SslMode, int? ConnectTimeout, string ApplicationName)
{
    /// <summary>RC1015: the <c>store:</c> URL holds a password (a secret written in recal.yaml).</summary>
    public const string PasswordInConfig = "RC1015";

    /// <summary>RC1016: the <c>store:</c> URL is not a PostgreSQL store URL Recal reads (no host or database, a bad port, an unknown option).</summary>
    public const string MalformedUrl = "RC1016";

    /// <summary>The variable the password is read from when the URL names none: libpq's.</summary>
    public const string DefaultPasswordVariable = "PGPASSWORD";

    /// <summary>The port of a URL that names none.</summary>
    public const int DefaultPort = 5432;

    /// <summary>The options a store URL may carry, in the order the docs list them.</summary>
    public static IReadOnlyList<string> Options { get; } = ["password_env", "sslmode", "connect_timeout", "application_name"];

    /// <summary>The variable the password is read from: the one <c>password_env</c> names, else <see cref="DefaultPasswordVariable"/>.</summary>
    public string PasswordSource => PasswordVariable ?? DefaultPasswordVariable;

    /// <summary>Reads a store location; a URL that is not one gives its located error instead (the password never in it).</summary>
    public static PostgresLocation? TryParse(StoreLocation location, out Diagnostic? error)
    {
        ArgumentNullException.ThrowIfNull(location);
        error = null;
        Diagnostic Error(string code, string message, string hint) =>
            new(Severity.Error, code, message, location.Setting ?? new SourceLocation(Project.EvalProjectLoader.ProjectFile), hint);

        const string Shape = "postgres://USER@HOST[:PORT]/DATABASE[?password_env=VARIABLE]";
        if (!Uri.TryCreate(location.Target, UriKind.Absolute, out var uri) || !uri.Scheme.StartsWith("postgres", StringComparison.OrdinalIgnoreCase))
        {
            error = Error(MalformedUrl, $"'store' is not a PostgreSQL URL Recal can read ({location.Display})", $"write it as {Shape}");
            return null;
        }

        var query = ReadQuery(uri.Query);
        var userInfo = uri.UserInfo;
        var passwordKey = query.Keys.FirstOrDefault(k => k is "password" or "pwd" or "passwd" or "pass");
        if (userInfo.Contains(':', StringComparison.Ordinal) || passwordKey is not null)
        {
            var user = Uri.UnescapeDataString(userInfo.Split(':')[0]);
            error = Error(
                PasswordInConfig,
                $"'store' holds a password ({location.Display}): a secret does not belong in recal.yaml, which is committed and shared",
                $"remove it and put it in an environment variable the URL names: postgres://{(user.Length == 0 ? "USER" : user)}@{uri.Authority.Split('@')[^1]}{uri.AbsolutePath}?password_env=RECAL_PG_PASSWORD (without password_env, {DefaultPasswordVariable} is read)");
            return null;
        }

        if (uri.Host.Length == 0)
        {
            error = Error(MalformedUrl, $"'store' names no host ({location.Display})", $"write it as {Shape}");
            return null;
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            error = Error(MalformedUrl, $"'store' names no database, or more than one path segment ({location.Display})", $"write it as {Shape}");
            return null;
        }

        foreach (var key in query.Keys)
        {
            if (!Options.Contains(key))
            {
                var nearest = Text.Spelling.Nearest(key, Options);
                error = Error(MalformedUrl, $"'store' has the unknown option '{key}' ({location.Display})", $"the options are {string.Join(", ", Options)}{(nearest is null ? string.Empty : $"; did you mean '{nearest}'?")}");
                return null;
            }
        }

        var variable = query.GetValueOrDefault("password_env");
        if (variable is not null && !IsVariableName(variable))
        {
            error = Error(MalformedUrl, $"'password_env' must name an environment variable, not '{variable}' ({location.Display})", "letters, digits and underscores, not starting with a digit: password_env=RECAL_PG_PASSWORD");
            return null;
        }

        SslMode? sslMode = null;
        if (query.GetValueOrDefault("sslmode") is { } mode)
        {
            var modes = Enum.GetNames<SslMode>().Select(m => m.ToLowerInvariant().Replace("verify", "verify-", StringComparison.Ordinal)).ToList();
            var index = modes.IndexOf(mode.ToLowerInvariant());
            if (index < 0)
            {
                error = Error(MalformedUrl, $"'sslmode' has the unknown value '{mode}' ({location.Display})", $"one of {string.Join(", ", modes)}");
                return null;
            }

            sslMode = Enum.GetValues<SslMode>()[index];
        }

        int? timeout = null;
        if (query.GetValueOrDefault("connect_timeout") is { } seconds)
        {
            if (!int.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed is < 1 or > 3600)
            {
                error = Error(MalformedUrl, $"'connect_timeout' must be a whole number of seconds from 1 to 3600, not '{seconds}' ({location.Display})", "connect_timeout=15");
                return null;
            }

            timeout = parsed;
        }

        var name = userInfo.Length == 0 ? null : Uri.UnescapeDataString(userInfo);
        return new PostgresLocation(uri.Host.Trim('[', ']'), uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port, database, name, variable, sslMode, timeout, query.GetValueOrDefault("application_name") ?? "recal");
    }

    /// <summary>
    /// The connection string of this location, with the password read from its variable (<paramref name="environment"/>
    /// reads one; the process environment by default). A named variable that is unset is a <see cref="StoreException"/>.
    /// </summary>
    public string ConnectionString(string display, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Database = Database,
            ApplicationName = ApplicationName,
            SearchPath = PostgresStore.Schema,
        };
        if (User is not null)
        {
            builder.Username = User;
        }

        if (SslMode is { } ssl)
        {
            builder.SslMode = ssl;
        }

        if (ConnectTimeout is { } timeout)
        {
            builder.Timeout = timeout;
        }

        var password = environment(PasswordSource);
        if (PasswordVariable is not null && string.IsNullOrEmpty(password))
        {
            throw new StoreException(
                StoreException.CannotOpen,
                $"the store's password is read from {PasswordVariable} (password_env), which is not set",
                display,
                $"set {PasswordVariable} to the password of {User ?? "the role"} on {Host}, or remove password_env to use {DefaultPasswordVariable} or a .pgpass file");
        }

        if (!string.IsNullOrEmpty(password))
        {
            builder.Password = password;
        }

        return builder.ConnectionString;
    }

    private static bool IsVariableName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    /// <summary>The query's options by lower-case name (the last of a name given twice), values unescaped.</summary>
    private static Dictionary<string, string> ReadQuery(string query)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(at < 0 ? pair : pair[..at]).ToLowerInvariant();
            options[key] = Uri.UnescapeDataString(at < 0 ? string.Empty : pair[(at + 1)..]);
        }

        return options;
    }
}
