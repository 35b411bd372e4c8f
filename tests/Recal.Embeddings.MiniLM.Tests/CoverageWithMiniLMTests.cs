using System.IO.Compression;
using System.Text.Json;
using FluentAssertions;
using Recal.Cli.Tests;
using Xunit;

namespace Recal.Embeddings.MiniLM.Tests;

/// <summary><c>recal coverage --embedder minilm</c> end to end on a small copy of the sample (tens of texts to embed).</summary>
public sealed class CoverageWithMiniLMTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-minilm-cli-" + Guid.NewGuid().ToString("N")[..12]);

    public CoverageWithMiniLMTests()
    {
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Sample, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(RepositoryPaths.Sample, file);
            if (!relative.StartsWith(".recal", StringComparison.Ordinal) && !relative.StartsWith("traffic", StringComparison.Ordinal))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_folder, relative))!);
                File.Copy(file, Path.Combine(_folder, relative));
            }
        }

        // The first 30 gold cases, and the sample's last 40 traces as the traffic.
        var gold = Path.Combine(_folder, "cases", "gold.jsonl");
        File.WriteAllLines(gold, File.ReadLines(gold).Take(30).ToList());
        using var gzip = new GZipStream(File.OpenRead(Path.Combine(RepositoryPaths.Sample, "traffic", "traffic.jsonl.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var last = new Queue<string>();
        while (reader.ReadLine() is { } line)
        {
            last.Enqueue(line);
            if (last.Count > 40)
            {
                last.Dequeue();
            }
        }

        Directory.CreateDirectory(Path.Combine(_folder, "traffic"));
        File.WriteAllLines(Path.Combine(_folder, "traffic", "last.jsonl"), last);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    [Fact]
    public async Task Coverage_with_the_minilm_embedder_reports_it_and_a_second_run_reads_every_vector_from_the_cache()
    {
        // Given a small project with its traffic ingested
        (await RunAsync("ingest", "--project", _folder, Path.Combine(_folder, "traffic", "last.jsonl"))).Code.Should().Be(0);

        // When coverage is measured with the MiniLM embedder, twice
        var json = Path.Combine(_folder, "coverage.json");
        var first = await RunAsync("coverage", "--project", _folder, "--embedder", "minilm", "--json", json);
        var second = await RunAsync("coverage", "--project", _folder, "--embedder", "minilm");

        // Then the report names the embedder and validates against its schema
        first.Code.Should().Be(0, first.Error);
        first.Out.Should().Contain("embedder minilm-v1/all-MiniLM-L6-v2/d384 (384 dimensions)");
        first.Error.Should().MatchRegex(@"embeddings: [1-9][\d,]* computed, 0 from the store's cache");
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(RepositoryPaths.Root, "docs", "schemas", "coverage-report.schema.json"), TestContext.Current.CancellationToken);
        var text = await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken);
        schema.Validate(text).Should().BeEmpty();
        using var report = JsonDocument.Parse(text);
        report.RootElement.GetProperty("overall").GetProperty("measured").GetInt32().Should().BeGreaterThan(0);

        // And the second run embeds nothing: every vector comes from the store, under the embedder's id
        second.Code.Should().Be(0, second.Error);
        second.Error.Should().MatchRegex(@"embeddings: 0 computed, [1-9][\d,]* from the store's cache");
    }

    private static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) => CliRunner.RunAsync(args);
}
