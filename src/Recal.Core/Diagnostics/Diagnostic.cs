namespace Recal.Diagnostics;

/// <summary>How bad a diagnostic is. Errors fail validation; warnings do not.</summary>
public enum Severity
{
    Info,
    Warning,
    Error,
}

/// <summary>Where a diagnostic points: a file with an optional 1-based line and column, or a case id.</summary>
public sealed record SourceLocation(string File, int? Line = null, int? Column = null, string? CaseId = null)
{
    public override string ToString()
    {
        var place = File;
        if (Line is { } line)
        {
            place += $":{line}";
            if (Column is { } column)
            {
                place += $":{column}";
            }
        }

        return CaseId is null ? place : $"{place} (case {CaseId})";
    }
}

/// <summary>
/// An expected failure turned into data: what is wrong, where, and what would be right.
/// </summary>
/// <param name="Severity">Error, warning or info.</param>
/// <param name="Code">Stable machine-readable code, for example <c>RC1001</c>.</param>
/// <param name="Message">What is wrong.</param>
/// <param name="Location">Where it is wrong; null when it concerns the whole input.</param>
/// <param name="Hint">What would be right: allowed values, the nearest valid spelling.</param>
public sealed record Diagnostic(Severity Severity, string Code, string Message, SourceLocation? Location = null, string? Hint = null)
{
    public override string ToString()
    {
        var head = Location is null ? string.Empty : $"{Location}: ";
        var severity = Severity.ToString().ToLowerInvariant();
        var hint = Hint is null ? string.Empty : $" ({Hint})";
        return $"{head}{severity} {Code}: {Message}{hint}";
    }
}

/// <summary>A growing list of diagnostics with helpers for the common cases.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> _items = [];

    public IReadOnlyList<Diagnostic> Items => _items;

    public bool HasErrors => _items.Exists(d => d.Severity == Severity.Error);

    public int ErrorCount => _items.Count(d => d.Severity == Severity.Error);

    public int WarningCount => _items.Count(d => d.Severity == Severity.Warning);

    public void Add(Diagnostic diagnostic) => _items.Add(diagnostic);

    public void AddRange(IEnumerable<Diagnostic> diagnostics) => _items.AddRange(diagnostics);

    public void Error(string code, string message, SourceLocation? location = null, string? hint = null) =>
        _items.Add(new Diagnostic(Severity.Error, code, message, location, hint));

    public void Warning(string code, string message, SourceLocation? location = null, string? hint = null) =>
        _items.Add(new Diagnostic(Severity.Warning, code, message, location, hint));
}
