using Recal.Diagnostics;

namespace Recal.Storage;

/// <summary>
/// The store providers a host knows, by scheme: built once when the host starts and not changed after. Resolves the
/// <c>store:</c> setting to its provider, or says which schemes there are.
/// </summary>
public sealed class StoreProviders
{
    /// <summary>RC1014: the <c>store:</c> setting names a scheme no provider of this Recal handles.</summary>
    public const string UnknownScheme = "RC1014";

    private readonly Dictionary<string, IStoreProvider> _byScheme = new(StringComparer.Ordinal);

    public StoreProviders(IEnumerable<IStoreProvider> providers)
    {
        ArgumentNullException.ThrowIfNull(providers);
        foreach (var provider in providers)
        {
            foreach (var scheme in provider.Schemes)
            {
                if (!_byScheme.TryAdd(scheme.ToLowerInvariant(), provider))
                {
                    throw new ArgumentException($"two store providers claim the scheme '{scheme}'", nameof(providers));
                }
            }
        }

        Schemes = [.. _byScheme.Keys.Order(StringComparer.Ordinal)];
    }

    /// <summary>The schemes there is a provider for, in name order.</summary>
    public IReadOnlyList<string> Schemes { get; }

    /// <summary>The provider for <paramref name="location"/>'s scheme; null when there is none.</summary>
    public IStoreProvider? Find(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return _byScheme.GetValueOrDefault(location.Scheme);
    }

    /// <summary>
    /// The located error for a location no provider opens, or that its provider finds wrong (<see cref="IStoreProvider.Check"/>:
    /// a secret written in it, say); null when it can be opened.
    /// </summary>
    public Diagnostic? Check(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (Find(location) is { } provider)
        {
            return provider.Check(location);
        }

        var nearest = Text.Spelling.Nearest(location.Scheme, Schemes);
        return new Diagnostic(
            Severity.Error,
            UnknownScheme,
            $"'store' names the scheme '{location.Scheme}' ({location.Display}), which no store provider of this Recal opens",
            location.Setting ?? new SourceLocation(Project.EvalProjectLoader.ProjectFile),
            $"known schemes: {string.Join(", ", Schemes.Select(s => s + ":"))}, or a plain path (SQLite){(nearest is null ? string.Empty : $"; did you mean '{nearest}:'?")}");
    }

    /// <summary>The provider for <paramref name="location"/>; a <see cref="StoreException"/> carrying <see cref="Check"/>'s error when there is none.</summary>
    public IStoreProvider Resolve(StoreLocation location) =>
        Find(location) ?? throw new UnknownStoreSchemeException(Check(location)!, location);

    /// <summary>What an engine failure means for the user, from the provider of <paramref name="location"/>.</summary>
    public StoreException? Explain(Exception exception, StoreLocation location) => Find(location)?.Explain(exception, location);
}

/// <summary>The <c>store:</c> setting cannot be opened as written: the located error of <see cref="StoreProviders.Check"/>.</summary>
public class StoreSettingException(Diagnostic diagnostic, StoreLocation location)
    : StoreException(diagnostic?.Code ?? throw new ArgumentNullException(nameof(diagnostic)), diagnostic.Message, location?.Display ?? throw new ArgumentNullException(nameof(location)), diagnostic.Hint)
{
    public Diagnostic Diagnostic { get; } = diagnostic;

    public override Diagnostic ToDiagnostic() => Diagnostic;
}

/// <summary>The <c>store:</c> setting names a scheme no provider opens (<see cref="StoreProviders.UnknownScheme"/>).</summary>
public sealed class UnknownStoreSchemeException(Diagnostic diagnostic, StoreLocation location) : StoreSettingException(diagnostic, location)
{
}
