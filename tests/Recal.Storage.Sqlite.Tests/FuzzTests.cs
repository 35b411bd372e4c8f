using System.Text;
using System.Text.Json;
using FluentAssertions;
using Recal.Diagnostics;
using Recal.Ingest;
using Recal.Project;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>
/// Seeded mutations of trace lines, case lines and project YAML files (byte flips, truncation, lone surrogates, a
/// byte order mark, deep nesting, huge values, bytes that are not UTF-8): no input may throw, and every rejected
/// record gets a located diagnostic. Deterministic: the same seed makes the same inputs.
/// </summary>
public sealed class FuzzTests : IDisposable
{
    private const int Seed = 20261202;
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static readonly string[] TraceTemplates =
    [
        """{"id":"t-1","timestamp":"2026-06-01T09:30:00Z","input":"how much is in my checking","output":"Your balance is 10","model":"m1","metadata":{"plan":"pro","locale":"en-US","n":3},"feedback":{"thumbs":"up","csat":4,"escalated":false},"intent":"balance"}""",
        """{"timestamp":1780306200,"messages":[{"role":"system","content":"be nice"},{"role":"user","content":"freeze my card"}],"feedback":{"thumbs":-1,"follow_up":true}}""",
        """{"id":42,"timestamp":"2026-06-01","input":"café ünïcode ✓","metadata":{"nested":{"a":[1,2,{"b":null}]}}}""",
    ];

    [Fact]
    public async Task Mutated_trace_lines_never_throw_and_every_rejected_line_is_quarantined_with_its_line_and_reason()
    {
        // Given 400 mutated trace lines in one file
        var random = new Random(Seed);
        var lines = Enumerable.Range(0, 400).Select(i => Mutate(Encoding.UTF8.GetBytes(TraceTemplates[i % TraceTemplates.Length].Replace("t-1", $"t-{i}", StringComparison.Ordinal)), random)).ToList();
        foreach (var line in lines)
        {
            // Then the parser alone never throws and always says why it rejects
            var parsed = TraceLineParser.Parse(line);
            if (!parsed.IsTrace)
            {
                parsed.ErrorCode.Should().MatchRegex("^RC20[0-9][0-9]$");
                parsed.Error.Should().NotBeNullOrWhiteSpace();
            }
        }

        var path = Path.Combine(_fixture.Folder, "fuzz.jsonl");
        await File.WriteAllBytesAsync(path, [.. lines.SelectMany(l => l.Append((byte)'\n'))], Token);
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        // When the file is ingested
        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        // Then it completes; every line is stored, a duplicate, blank or quarantined with its number and a code
        summary.Failure.Should().BeNull();
        var physicalLines = lines.Sum(l => l.Count(b => b == '\n') + 1);
        summary.LinesRead.Should().Be(physicalLines);
        (summary.Added + summary.Duplicates + summary.Quarantined + summary.Blank).Should().Be(physicalLines);
        summary.Quarantined.Should().BeGreaterThan(100, "most mutations break a line");
        var quarantined = File.Exists(_fixture.QuarantinePath) ? File.ReadAllLines(_fixture.QuarantinePath) : [];
        quarantined.Should().HaveCount((int)summary.Quarantined);
        quarantined.Select(q => JsonDocument.Parse(q).RootElement).Should().OnlyContain(q =>
            q.GetProperty("line").GetInt64() >= 1 && q.GetProperty("code").GetString()!.StartsWith("RC20", StringComparison.Ordinal) && q.GetProperty("reason").GetString()!.Length > 0);
    }

    [Fact]
    public void Mutated_case_lines_never_throw_and_every_rejected_line_gets_a_located_error()
    {
        using var project = new ProjectFolder();
        var templates = File.ReadAllLines(Path.Combine(project.Root, "cases", "gold.jsonl"));
        var random = new Random(Seed + 1);
        var rejected = 0;
        for (var i = 0; i < 300; i++)
        {
            var bytes = Mutate(Encoding.UTF8.GetBytes(templates[i % templates.Length]), random);
            var line = Encoding.UTF8.GetString(bytes);
            var diagnostics = new DiagnosticBag();

            var parsed = CaseFileReader.Parse(line, new SourceLocation("cases/fuzz.jsonl", i + 1), diagnostics);

            if (parsed is null)
            {
                rejected++;
                diagnostics.Items.Should().Contain(d => d.Severity == Severity.Error, line);
            }

            diagnostics.Items.Where(d => d.Location?.Line != i + 1 || !d.Code.StartsWith("RC1", StringComparison.Ordinal)).Should().BeEmpty(line);
        }

        rejected.Should().BeGreaterThan(100);
    }

    [Theory]
    [InlineData("recal.yaml")]
    [InlineData("taxonomy.yaml")]
    [InlineData("policy.yaml")]
    [InlineData("cases/gold.jsonl")]
    public void Mutated_project_files_never_throw_and_every_error_is_located(string file)
    {
        var random = new Random(Seed + file.Length);
        for (var i = 0; i < 25; i++)
        {
            // Given a fresh project with one file mutated
            using var project = new ProjectFolder();
            var path = Path.Combine(project.Root, file);
            File.WriteAllBytes(path, MutateFile(File.ReadAllBytes(path), random));

            // When it loads
            var result = EvalProjectLoader.Load(project.Root);

            // Then nothing throws, a project that does not load says why, and every error names its file
            if (result.Project is null)
            {
                result.Diagnostics.Should().Contain(d => d.Severity == Severity.Error);
            }

            result.Diagnostics.Where(d => d.Severity == Severity.Error && (d.Location is null || d.Location.File.Length == 0)).Should().BeEmpty(string.Join("\n", result.Diagnostics));
        }
    }

    /// <summary>One mutation of a line: a flipped byte, a cut, a lone surrogate, a BOM, deep nesting, a huge value, or bytes that are not UTF-8.</summary>
    private static byte[] Mutate(byte[] line, Random random)
    {
        var bytes = line.ToList();
        switch (random.Next(9))
        {
            case 0:
                bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                break;
            case 1:
                bytes.RemoveRange(random.Next(bytes.Count), bytes.Count - random.Next(bytes.Count) > 0 ? 1 : 0);
                return [.. bytes.Take(random.Next(1, bytes.Count))];
            case 2:
                return Replace(bytes, "\":\"", random.Next(2) == 0 ? "\":\"\\ud800" : "\":\"x\\udfff");
            case 3:
                return [0xEF, 0xBB, 0xBF, .. bytes];
            case 4:
                var depth = random.Next(50, 3000);
                return Replace(bytes, "{\"", "{\"deep\":" + new string('[', depth) + new string(']', depth) + ",\"");
            case 5:
                return Replace(bytes, "\":\"", "\":" + (random.Next(3) switch { 0 => "1e400", 1 => "99999999999999999999999999", _ => "\"" + new string('x', 100_000) }) + (random.Next(2) == 0 ? "," : "}") + "\"");
            case 6:
                bytes.Insert(random.Next(bytes.Count), (byte)(0x80 + random.Next(0x40)));
                break;
            case 7:
                return Replace(bytes, "2026", random.Next(2) == 0 ? "9999" : "01/06/");
            default:
                bytes.Insert(random.Next(bytes.Count), (byte)"{}[]\",:\\\n"[random.Next(9)]);
                break;
        }

        return [.. bytes];
    }

    /// <summary>One mutation of a whole file: as a line, or deep YAML nesting, a huge duration, a truncated file.</summary>
    private static byte[] MutateFile(byte[] file, Random random) => random.Next(4) switch
    {
        0 => [.. file, .. Encoding.UTF8.GetBytes("\nnested: " + new string('[', 20_000) + new string(']', 20_000) + "\n")],
        1 => [.. file, .. Encoding.UTF8.GetBytes("\n" + string.Concat(Enumerable.Range(0, 100).Select(i => new string(' ', i) + "k:\n")))],
        2 => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(file).Replace(": 7d", ": 2147483647w", StringComparison.Ordinal).Replace("\"2026-01-05\"", "\"\\ud800\"", StringComparison.Ordinal).Replace("name: fuzz", "name: \"fu\\ud800zz\"", StringComparison.Ordinal)),
        _ => Mutate(file, random),
    };

    private static byte[] Replace(List<byte> bytes, string from, string to)
    {
        var text = Encoding.UTF8.GetString([.. bytes]);
        var at = text.IndexOf(from, StringComparison.Ordinal);
        return at < 0 ? [.. bytes] : Encoding.UTF8.GetBytes(text[..at] + to + text[(at + from.Length)..]);
    }

    /// <summary>A scaffolded project in a temporary folder.</summary>
    private sealed class ProjectFolder : IDisposable
    {
        public ProjectFolder()
        {
            Root = Path.Combine(Path.GetTempPath(), "recal-fuzz-" + Guid.NewGuid().ToString("N")[..12]);
            ProjectScaffolder.Scaffold(Root, "fuzz").Should().BeEmpty();
        }

        public string Root { get; }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
