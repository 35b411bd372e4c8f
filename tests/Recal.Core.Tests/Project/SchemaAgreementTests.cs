using FluentAssertions;
using NJsonSchema;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Project;

/// <summary>The documented JSON Schemas and the loader must agree: every file the loader accepts validates.</summary>
public sealed class SchemaAgreementTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public SchemaAgreementTests() => ProjectScaffolder.Scaffold(_folder.Path, "demo");

    public void Dispose() => _folder.Dispose();

    public static TheoryData<string> Projects => new() { "scaffold", "sample" };

    [Theory]
    [MemberData(nameof(Projects))]
    public async Task Project_files_validate_against_their_schemas(string which)
    {
        var root = which == "sample" ? Path.Combine(RepositoryPaths.Root, "samples", "clinc150-support") : _folder.Path;
        EvalProjectLoader.Load(root).HasErrors.Should().BeFalse();

        foreach (var (file, schema) in new[] { ("recal.yaml", "recal"), ("taxonomy.yaml", "taxonomy"), ("policy.yaml", "policy") })
        {
            var errors = (await Schema(schema)).Validate(YamlJson.Convert(Path.Combine(root, file)));
            errors.Should().BeEmpty($"{which}/{file} should match docs/schemas/{schema}.schema.json");
        }

        var caseSchema = await Schema("case");
        foreach (var line in File.ReadLines(Path.Combine(root, "cases", "gold.jsonl")).Where(l => l.Length > 0))
        {
            caseSchema.Validate(line).Should().BeEmpty(line);
        }
    }

    [Fact]
    public async Task Schemas_reject_what_the_loader_rejects()
    {
        (await Schema("case")).Validate("""{"id":"x","input":"hi","intent":"a","added":"2026-01-01","pool":"gould"}""").Should().NotBeEmpty();
        (await Schema("policy")).Validate("""{"version":1,"size":10,"traffic_window":"28 days"}""").Should().NotBeEmpty();
        (await Schema("taxonomy")).Validate("""{"intents":[{"name":"unknown"}]}""").Should().NotBeEmpty();
        (await Schema("recal")).Validate("""{"version":1,"stor":"x"}""").Should().NotBeEmpty();
    }

    [Fact]
    public async Task Sample_traces_validate_against_the_trace_schema()
    {
        var schema = await Schema("trace");
        using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(RepositoryPaths.Root, "samples", "clinc150-support", "traffic", "traffic.jsonl.gz")), System.IO.Compression.CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        for (var i = 0; i < 200 && await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line; i++)
        {
            schema.Validate(line).Should().BeEmpty(line);
        }

        schema.Validate("""{"timestamp":"2026-06-01T00:00:00Z","input":42}""").Should().NotBeEmpty();
    }

    private static Task<JsonSchema> Schema(string name) =>
        JsonSchema.FromFileAsync(Path.Combine(RepositoryPaths.Root, "docs", "schemas", name + ".schema.json"));
}
