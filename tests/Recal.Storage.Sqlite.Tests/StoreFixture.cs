using System.IO.Compression;
using System.Text;
using Recal.Domain;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>A temporary folder with helpers to write trace files and a label-only classify function.</summary>
internal sealed class StoreFixture : IDisposable
{
    public StoreFixture()
    {
        Folder = Path.Combine(Path.GetTempPath(), "recal-store-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public string StorePath => Path.Combine(Folder, ".recal", "recal.db");

    public string QuarantinePath => Path.Combine(Folder, ".recal", "quarantine.jsonl");

    public static ClassifiedTrace Classify(Trace trace, string key) =>
        new(trace, key, trace.Intent ?? Taxonomy.UnknownIntent, trace.Intent is null ? IntentSource.Unknown : IntentSource.Label, 1, "plan=" + trace.Metadata.GetValueOrDefault("plan", "unknown"));

    public static string Line(int i, DateTimeOffset? time = null, string intent = "balance", string plan = "free") =>
        $$"""{"id":"t-{{i}}","timestamp":"{{(time ?? new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(i)).ToString("O", System.Globalization.CultureInfo.InvariantCulture)}}","input":"question {{i}}","output":"answer","metadata":{"plan":"{{plan}}"},"intent":"{{intent}}"}""";

    public string WriteText(string name, string contents)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, contents);
        return path;
    }

    public string WriteGzip(string name, string contents)
    {
        var path = Path.Combine(Folder, name);
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(Encoding.UTF8.GetBytes(contents));
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
