using Recal.Diagnostics;

namespace Recal.Storage;

/// <summary>
/// The store cannot be used: it cannot be opened, a write failed, or SQLite found it damaged. Carries the diagnostic a
/// command prints (one line: what, where, what to do) instead of a stack trace; the codes are in docs/store.md.
/// </summary>
public class StoreException(string code, string message, string path, string? hint = null, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>RC3001: the store file cannot be opened (permissions, not a database, a folder in its place).</summary>
    public const string CannotOpen = "RC3001";

    /// <summary>RC3002: a write to the store failed (a full disk, a read-only file).</summary>
    public const string WriteFailed = "RC3002";

    /// <summary>RC3003: the store's schema is newer than this Recal, or does not match its migration log.</summary>
    public const string SchemaMismatch = "RC3003";

    /// <summary>RC3004: the store is damaged (SQLite reported a corrupt page, or <c>recal store check</c> failed).</summary>
    public const string Damaged = "RC3004";

    public string Code { get; } = code;

    /// <summary>The store file, or the store's location as it may be printed (secrets redacted).</summary>
    public string Path { get; } = path;

    public string? Hint { get; } = hint;

    public virtual Diagnostic ToDiagnostic() => new(Severity.Error, Code, Message, new SourceLocation(Path), Hint);
}
