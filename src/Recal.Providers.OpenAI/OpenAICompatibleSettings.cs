namespace Recal.Providers.OpenAI;

/// <summary>
/// Where an OpenAI-compatible endpoint is and how to authenticate: the key is read from the environment variable
/// the configuration names, never from the configuration itself.
/// </summary>
/// <param name="BaseUrl">The API root, e.g. <c>http://127.0.0.1:8000/v1</c> (vLLM, Ollama, LM Studio, gateways).</param>
/// <param name="ApiKeyVariable">The environment variable holding the key; null for endpoints without authentication.</param>
public sealed record OpenAICompatibleSettings(Uri BaseUrl, string Model, string? ApiKeyVariable = null)
{
    /// <summary>The key from the environment, or a message naming the variable that is missing (never its value).</summary>
    public (string? Key, string? Error) ResolveApiKey()
    {
        if (ApiKeyVariable is null)
        {
            return ("no-key", null);
        }

        var value = Environment.GetEnvironmentVariable(ApiKeyVariable);
        return string.IsNullOrEmpty(value)
            ? (null, $"the environment variable {ApiKeyVariable} is not set; it must hold the API key for {BaseUrl}")
            : (value, null);
    }
}
