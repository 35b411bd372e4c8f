using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recal.Lifecycle;

/// <summary>Why a sealed holdout could not be opened: a wrong key, tampering, or a seal that is not due.</summary>
public sealed class HoldoutSealException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// What the project records about its sealed holdout (<c>holdout/seal.json</c>): when it was sealed and until when,
/// the SHA-256 commitment to its cases, and how many cases each intent has — never the inputs.
/// </summary>
/// <param name="Commitment">Hex SHA-256 of the sealed case lines (sorted by id, newline-terminated).</param>
/// <param name="KeyId">The first 16 hex digits of SHA-256 of the key: tells a wrong key from tampering.</param>
/// <param name="Nonce">The AES-GCM nonce, base64.</param>
/// <param name="Tag">The AES-GCM authentication tag, base64.</param>
/// <param name="Intents">Cases per intent, for status reports that must not read the inputs.</param>
/// <param name="Project">The project the holdout was sealed for (format 2; null in format 1): bound into the seal.</param>
public sealed record SealRecord(
    int FormatVersion,
    string Algorithm,
    DateTimeOffset Sealed,
    DateTimeOffset SealedUntil,
    int Cases,
    string Commitment,
    string KeyId,
    string Nonce,
    string Tag,
    IReadOnlyDictionary<string, int> Intents,
    string? Project = null);

/// <summary>
/// Seals the holdout: AES-256-GCM over the case lines with the seal record bound in as associated data, and a
/// SHA-256 commitment checked on every unseal, so a wrong key, a changed ciphertext, a changed record or a
/// swapped file is detected (docs/lifecycle.md#the-sealed-holdout).
/// </summary>
public static class HoldoutSeal
{
    public const string Folder = "holdout";
    public const string RecordFile = "seal.json";
    public const string CiphertextFile = "cases.sealed";
    public const string KeyVariable = "RECAL_HOLDOUT_KEY";
    public const int KeyBytes = 32;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>A fresh random key, base64, for a key file or <see cref="KeyVariable"/>.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes));

    /// <summary>
    /// The key from a key file (its first line, base64) or, without one, from <see cref="KeyVariable"/>; null with a
    /// reason when neither gives a valid 32-byte key. The key's value never appears in a message.
    /// </summary>
    public static (byte[]? Key, string? Error) ResolveKey(string? keyFile)
    {
        string? text;
        string source;
        if (keyFile is not null)
        {
            source = $"the key file {keyFile}";
            if (!File.Exists(keyFile))
            {
                return (null, $"{source} does not exist");
            }

            text = File.ReadLines(keyFile).FirstOrDefault();
        }
        else
        {
            source = $"the environment variable {KeyVariable}";
            text = Environment.GetEnvironmentVariable(KeyVariable);
            if (string.IsNullOrEmpty(text))
            {
                return (null, $"no key: set {KeyVariable} or pass --key-file (the eval owner holds the key)");
            }
        }

        try
        {
            var key = Convert.FromBase64String(text?.Trim() ?? string.Empty);
            return key.Length == KeyBytes ? (key, null) : (null, $"{source} must hold a base64 key of {KeyBytes} bytes");
        }
        catch (FormatException)
        {
            return (null, $"{source} is not base64");
        }
    }

    /// <summary>Seals case lines (JSONL of holdout cases); returns the record and the ciphertext.</summary>
    /// <param name="nonce">A 12-byte nonce; default a fresh random one. Give one only for reproducible fixtures, never twice per key.</param>
    /// <param name="project">The project's name, bound into the seal so another project's holdout does not verify here.</param>
    public static (SealRecord Record, byte[] Ciphertext) Seal(IReadOnlyList<(string Id, string Intent, string Line)> cases, byte[] key, DateTimeOffset now, DateTimeOffset sealedUntil, byte[]? nonce = null, string? project = null)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(key);
        var plaintext = Plaintext(cases.OrderBy(c => c.Id, StringComparer.Ordinal).Select(c => c.Line));
        nonce ??= RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var record = new SealRecord(
            project is null ? 1 : 2,
            "AES-256-GCM",
            Truncate(now),
            Truncate(sealedUntil),
            cases.Count,
            Convert.ToHexStringLower(SHA256.HashData(plaintext)),
            KeyId(key),
            Convert.ToBase64String(nonce),
            string.Empty,
            cases.GroupBy(c => c.Intent, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal),
            project);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(key, tag.Length))
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData(record));
        }

        return (record with { Tag = Convert.ToBase64String(tag) }, ciphertext);
    }

    /// <summary>
    /// Opens a sealed holdout and returns its case lines. Refuses before <see cref="SealRecord.SealedUntil"/> unless
    /// <paramref name="early"/>; detects a wrong key, any change to the ciphertext or the record, and a plaintext that
    /// does not match the commitment.
    /// </summary>
    public static IReadOnlyList<string> Unseal(SealRecord record, byte[] ciphertext, byte[] key, DateTimeOffset now, bool early)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(ciphertext);
        ArgumentNullException.ThrowIfNull(key);
        if (now < record.SealedUntil && !early)
        {
            throw new HoldoutSealException(string.Create(CultureInfo.InvariantCulture, $"the holdout is sealed until {record.SealedUntil:yyyy-MM-dd HH:mm} UTC; opening it earlier needs the explicit --unseal flag (and breaks the seal's purpose: nobody should tune against it)"));
        }

        if (!string.Equals(KeyId(key), record.KeyId, StringComparison.Ordinal))
        {
            throw new HoldoutSealException("this key is not the one the holdout was sealed with");
        }

        var plaintext = new byte[ciphertext.Length];
        try
        {
            using var aes = new AesGcm(key, AesGcm.TagByteSizes.MaxSize);
            aes.Decrypt(Convert.FromBase64String(record.Nonce), ciphertext, Convert.FromBase64String(record.Tag), plaintext, AssociatedData(record));
        }
        catch (Exception e) when (e is AuthenticationTagMismatchException or FormatException or ArgumentException)
        {
            throw new HoldoutSealException("the sealed holdout or its seal record was changed after sealing: authentication failed", e);
        }

        if (!string.Equals(Convert.ToHexStringLower(SHA256.HashData(plaintext)), record.Commitment, StringComparison.Ordinal))
        {
            throw new HoldoutSealException("the opened holdout does not match the recorded SHA-256 commitment");
        }

        return Encoding.UTF8.GetString(plaintext).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static string RecordPath(string root) => Path.Combine(root, Folder, RecordFile);

    public static string CiphertextPath(string root) => Path.Combine(root, Folder, CiphertextFile);

    /// <summary>The project's seal record; null when the holdout is not sealed.</summary>
    public static SealRecord? ReadRecord(string root)
    {
        var path = RecordPath(root);
        return File.Exists(path) ? JsonSerializer.Deserialize<SealRecord>(File.ReadAllText(path), Json) : null;
    }

    /// <summary>Writes the seal's two files through the project's workspace (with a change, together with the case files it empties).</summary>
    public static void Write(Project.IProjectFiles files, SealRecord record, byte[] ciphertext)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(ciphertext);
        files.Write(CiphertextPath(files.Root), ciphertext);
        files.Write(RecordPath(files.Root), Encoding.UTF8.GetBytes(JsonSerializer.Serialize(record, Json) + "\n"));
    }

    /// <summary>Removes the seal's two files (the seal is spent).</summary>
    public static void Remove(Project.IProjectFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        files.Delete(CiphertextPath(files.Root));
        files.Delete(RecordPath(files.Root));
    }

    /// <summary>
    /// Opens the project's sealed holdout with the resolved key. Beyond <see cref="Unseal"/>, checks that the seal was
    /// made for <paramref name="project"/> (format 2) and that its commitment is the one the project's changelog
    /// recorded at the last seal: replacing both holdout files by another holdout sealed under the same key is caught
    /// unless the committed changelog is rewritten too.
    /// </summary>
    public static IReadOnlyList<string> Open(string root, byte[] key, DateTimeOffset now, bool early, string? project = null)
    {
        var record = ReadRecord(root) ?? throw new HoldoutSealException("the project has no sealed holdout (holdout/seal.json)");
        if (record.Project is { } sealedFor && project is not null && !string.Equals(sealedFor, project, StringComparison.Ordinal))
        {
            throw new HoldoutSealException($"the sealed holdout was sealed for the project '{sealedFor}', not '{project}': its files were replaced");
        }

        if (RecordedCommitment(root) is { } recorded && !string.Equals(recorded, record.Commitment, StringComparison.Ordinal))
        {
            throw new HoldoutSealException($"the holdout files were replaced: {Changelog.FileName} records commitment {recorded[..16]}… for the last seal, the files hold {record.Commitment[..16]}…");
        }

        var path = CiphertextPath(root);
        if (!File.Exists(path))
        {
            throw new HoldoutSealException($"{path} is missing: the seal record has no ciphertext");
        }

        return Unseal(record, File.ReadAllBytes(path), key, now, early);
    }

    /// <summary>The words a seal's changelog entry records its commitment with.</summary>
    public static string CommitmentNote(SealRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return $"commitment {record.Commitment}";
    }

    /// <summary>The commitment the changelog's latest seal entry recorded; null when there is none (older projects).</summary>
    private static string? RecordedCommitment(string root)
    {
        var seal = Changelog.Read(root).Entries.LastOrDefault(e => e.Command == "holdout seal");
        var at = seal?.Summary.IndexOf("commitment ", StringComparison.Ordinal) ?? -1;
        return at < 0 || seal!.Summary.Length < at + 11 + 64 ? null : seal.Summary.Substring(at + 11, 64);
    }

    private static byte[] Plaintext(IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    /// <summary>Everything in the record but the tag, bound to the ciphertext: changing any of it fails authentication.</summary>
    private static byte[] AssociatedData(SealRecord record) => Encoding.UTF8.GetBytes(string.Create(
        CultureInfo.InvariantCulture,
        $"recal-holdout|{record.FormatVersion}|{record.Algorithm}|{record.Sealed:O}|{record.SealedUntil:O}|{record.Cases}|{record.Commitment}|{record.KeyId}|{string.Join(",", record.Intents.Select(kv => $"{kv.Key}={kv.Value}"))}{(record.FormatVersion >= 2 ? $"|project={record.Project}" : string.Empty)}"));

    /// <summary>
    /// Creates a key file readable and writable by its owner only, from the first byte (never created open and then
    /// narrowed); an existing file is never overwritten. Returns why it could not, or null.
    /// </summary>
    public static string? CreateKeyFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
        {
            return $"the folder {folder} does not exist; create it first (somewhere outside the repository)";
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using var file = new FileStream(path, options);
            file.Write(Encoding.ASCII.GetBytes(NewKey() + "\n"));
            return null;
        }
        catch (IOException) when (File.Exists(path))
        {
            return $"{path} exists; a key is never overwritten";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{path} cannot be written: {e.Message}";
        }
    }

    /// <summary>A warning when a key file can be read by other users than its owner (as ssh warns of a private key), else null.</summary>
    public static string? KeyFileWarning(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path))
        {
            return null;
        }

        var mode = File.GetUnixFileMode(path);
        var open = mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        return open == 0
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"the key file {path} is accessible by other users (mode {Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0')}): anyone who can read it can open the holdout; restrict it with chmod 600 {path}");
    }

    private static string KeyId(byte[] key) => Convert.ToHexStringLower(SHA256.HashData(key))[..16];

    /// <summary>Whole seconds, UTC: the record round-trips through JSON exactly.</summary>
    private static DateTimeOffset Truncate(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
