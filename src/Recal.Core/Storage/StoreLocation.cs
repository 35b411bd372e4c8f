using System.Text.RegularExpressions;
using Recal.Diagnostics;

namespace Recal.Storage;

/// <summary>
/// Where the project's store is, as the <c>store:</c> setting of recal.yaml gives it: a file path (SQLite, the
/// default) or a URI whose scheme names the store provider (<c>sqlite:PATH</c>, <c>postgres://user:pass@host/db</c>).
/// <see cref="Target"/> is what the provider opens and may carry a credential; print <see cref="Display"/>, never it.
/// </summary>
/// <param name="Scheme">The provider's scheme, lower case: <c>sqlite</c> for a plain path.</param>
/// <param name="Target">For <c>sqlite</c> the full path of the store file; otherwise the URI as given (variables expanded).</param>
/// <param name="Setting">Where the setting is written (recal.yaml, line and column); null for the default.</param>
public sealed partial record StoreLocation(string Scheme, string Target, SourceLocation? Setting = null)
{
    /// <summary>The scheme of a plain path: the embedded SQLite store.</summary>
    public const string DefaultScheme = "sqlite";

    /// <summary>The default store file, relative to the project folder.</summary>
    public static readonly string DefaultPath = Path.Combine(".recal", "recal.db");

    /// <summary>Whether the store is a file on this machine (a plain path or <c>sqlite:</c>).</summary>
    public bool IsFile => Scheme == DefaultScheme;

    /// <summary>The location as it may be printed: the password in a URI's user info and credential query values as <c>***</c>.</summary>
    public string Display => IsFile ? Target : Redact(Target);

    public override string ToString() => Display;

    /// <summary>The SQLite store file at <paramref name="path"/>.</summary>
    public static StoreLocation ForFile(string path, SourceLocation? setting = null) => new(DefaultScheme, Path.GetFullPath(path), setting);

    /// <summary>
    /// Reads a <c>store:</c> value: a URI when it starts with a scheme of two or more letters and a colon (a Windows drive
    /// letter is a path), else a path. Paths, and the path of <c>sqlite:PATH</c> or <c>sqlite:///PATH</c>, are resolved
    /// against <paramref name="root"/>.
    /// </summary>
    public static StoreLocation Parse(string written, string root, SourceLocation? setting = null)
    {
        ArgumentNullException.ThrowIfNull(written);
        var match = SchemePattern().Match(written);
        if (!match.Success)
        {
            return ForFile(Path.Combine(root, written), setting);
        }

        var scheme = match.Groups[1].Value.ToLowerInvariant();
        if (scheme != DefaultScheme)
        {
            return new StoreLocation(scheme, written, setting);
        }

        var path = written[match.Length..];
        if (path.StartsWith("//", StringComparison.Ordinal))
        {
            path = path[2..];
        }

        return ForFile(Path.Combine(root, path), setting);
    }

    /// <summary>
    /// A URI with its secrets replaced by <c>***</c>: the password of the user info (the user name is kept, it says who
    /// connects) and the values of credential-named query parameters (<c>password</c>, <c>token</c>, <c>key</c>, ...).
    /// </summary>
    public static string Redact(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var redacted = UserInfoPassword().Replace(uri, "$1***@");
        return QueryCredential().Replace(redacted, "$1***");
    }

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9+.\-]+):")]
    private static partial Regex SchemePattern();

    [GeneratedRegex(@"^([A-Za-z][A-Za-z0-9+.\-]*://[^/?#@:]*:)[^/?#@]*@")]
    private static partial Regex UserInfoPassword();

    [GeneratedRegex(@"(?i)([?&;](?:password|pwd|passwd|pass|secret|token|access[_-]?token|api[_-]?key|key|auth|sig|signature|sslpassword)=)[^&#;]*")]
    private static partial Regex QueryCredential();
}
