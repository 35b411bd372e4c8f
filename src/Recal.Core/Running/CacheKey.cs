using System.Security.Cryptography;
using System.Text.Json;

namespace Recal.Running;

/// <summary>
/// The key of a cached model response: the SHA-256 of everything that determines the response — the target's
/// kind and endpoint, the model, its parameters and the messages — serialised canonically (object keys sorted),
/// so equal requests share a key whatever the order their parts were written in. Secrets never enter it:
/// callers pass the configuration with credentials removed, and keys named like credentials are refused.
/// </summary>
public static class CacheKey
{
    private static readonly string[] SecretNames = ["api_key", "api-key", "apikey", "authorization", "password", "secret", "token", "access_token", "auth_token", "bearer", "credential", "credentials"];

    /// <summary>
    /// A parameter named like a credential: one of the usual names, or ending in one after <c>_</c> or <c>-</c>
    /// (<c>x_api_key</c>, <c>client-secret</c>); <c>max_tokens</c> is not one.
    /// </summary>
    public static bool LooksLikeCredential(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var lower = name.ToLowerInvariant();
        return SecretNames.Any(s => lower == s || lower.EndsWith("_" + s, StringComparison.Ordinal) || lower.EndsWith("-" + s, StringComparison.Ordinal));
    }

    public static string For(string targetKind, string endpoint, string model, IReadOnlyDictionary<string, JsonElement> parameters, IReadOnlyList<(string Role, string Content)> messages)
    {
        ArgumentNullException.ThrowIfNull(targetKind);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(messages);
        var secret = parameters.Keys.FirstOrDefault(LooksLikeCredential);
        if (secret is not null)
        {
            throw new ArgumentException($"parameter '{secret}' looks like a credential; credentials must not be part of a cache key", nameof(parameters));
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("kind", targetKind);
            json.WriteString("endpoint", endpoint.TrimEnd('/'));
            json.WriteString("model", model);
            json.WritePropertyName("parameters");
            json.WriteStartObject();
            foreach (var (name, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WritePropertyName(name);
                WriteCanonical(json, value);
            }

            json.WriteEndObject();
            json.WriteStartArray("messages");
            foreach (var (role, content) in messages)
            {
                json.WriteStartObject();
                json.WriteString("role", role);
                json.WriteString("content", content);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
    }

    private static void WriteCanonical(Utf8JsonWriter json, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                json.WriteStartObject();
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    json.WritePropertyName(property.Name);
                    WriteCanonical(json, property.Value);
                }

                json.WriteEndObject();
                break;
            case JsonValueKind.Array:
                json.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteCanonical(json, item);
                }

                json.WriteEndArray();
                break;
            case JsonValueKind.Number:
                // 0.7 and 0.70 are the same temperature.
                json.WriteNumberValue(value.GetDouble());
                break;
            default:
                value.WriteTo(json);
                break;
        }
    }

    /// <summary>A short printable form for logs: the first 12 hex digits.</summary>
    public static string Short(string key) => key is { Length: > 12 } ? key[..12] : key;
}
