using System.Text.RegularExpressions;
using Recal.Domain;

namespace Recal.Running;

/// <summary>
/// Removes secrets from texts that are stored or printed (call errors, a target's stored configuration): the values
/// of every environment variable the project uses for a credential (<c>api_key_env</c>, variables expanded into a
/// URL's user info or query or into a header), literal user info and credential headers, and anything shaped like a
/// bearer token or an API key, whatever the server echoed. Each becomes <c>***</c>.
/// </summary>
public sealed partial class SecretRedactor
{
    /// <summary>Shorter values are not redacted by value (they would hit ordinary words); the shapes still apply.</summary>
    private const int MinSecretLength = 6;

    private readonly string[] _secrets;

    public SecretRedactor(IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);

        // Longest first, so a secret that contains another is removed whole.
        _secrets = [.. secrets.Where(s => s.Length >= MinSecretLength).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];
    }

    public static SecretRedactor None { get; } = new([]);

    /// <summary>The redactor for a project: its secret sources' current values, read from the environment.</summary>
    public static SecretRedactor For(ProjectSettings settings, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var read = environment ?? Environment.GetEnvironmentVariable;
        var values = new List<string>(settings.SecretLiterals);
        foreach (var variable in settings.SecretVariables)
        {
            if (read(variable) is { Length: > 0 } value)
            {
                values.Add(value);
                values.Add(Uri.EscapeDataString(value));
            }
        }

        return new SecretRedactor(values);
    }

    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, "***", StringComparison.OrdinalIgnoreCase);
        }

        text = BearerPattern().Replace(text, "$1***");
        text = KeyPattern().Replace(text, "$1***");
        text = UserInfoPattern().Replace(text, "$1***@");
        return QueryCredentialPattern().Replace(text, "$1***");
    }

    public string? RedactOrNull(string? text) => text is null ? null : Redact(text);

    /// <summary>A URL with its user info and the values of credential-named query parameters replaced by <c>***</c>.</summary>
    public string RedactUrl(string url) => Redact(url);

    [GeneratedRegex(@"(?i)\b(Bearer\s+|Basic\s+|Token\s+)[A-Za-z0-9._~+/=\-]{6,}")]
    private static partial Regex BearerPattern();

    [GeneratedRegex(@"(?i)\b(sk-|sk_live_|sk_test_|pk_live_|ghp_|gho_|xox[abp]-|AKIA)[A-Za-z0-9_\-]{8,}")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@:]*(?::[^/\s@]*)?@")]
    private static partial Regex UserInfoPattern();

    [GeneratedRegex(@"(?i)([?&](?:api[_-]?key|key|token|access[_-]?token|auth|password|secret|sig|signature)=)[^&#\s""']+")]
    private static partial Regex QueryCredentialPattern();
}
