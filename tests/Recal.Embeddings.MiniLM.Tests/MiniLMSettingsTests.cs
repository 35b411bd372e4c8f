using FluentAssertions;
using NJsonSchema;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Project;
using Xunit;

namespace Recal.Embeddings.MiniLM.Tests;

/// <summary><c>embeddings: {type: minilm}</c> in recal.yaml: read by the loader, described by the schema.</summary>
public sealed class MiniLMSettingsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-minilm-" + Guid.NewGuid().ToString("N")[..12]);

    public MiniLMSettingsTests() => ProjectScaffolder.Scaffold(_folder, "demo").Should().BeEmpty();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_minilm_type_is_read_and_needs_no_other_key()
    {
        // Given a scaffolded project whose recal.yaml names the MiniLM embedder
        Append("embeddings:\n  type: minilm\n");

        // When the project is loaded
        var result = EvalProjectLoader.Load(_folder);

        // Then it loads without error with that embedder
        result.Diagnostics.Where(d => d.Severity == Severity.Error).Should().BeEmpty();
        result.Project!.Settings.Embeddings.Should().Be(new EmbeddingSettings(EmbedderKind.MiniLM));
        RunSettingsReader.EmbedderKinds["minilm"].Should().Be(EmbedderKind.MiniLM);
    }

    [Fact]
    public void Endpoint_keys_unknown_keys_and_a_misspelt_type_are_located_errors()
    {
        // Given the MiniLM embedder with an endpoint's model
        Rewrite("embeddings:\n  type: minilm\n  model: all-mpnet-base-v2\n");

        // Then the key is named, with the type that reads it, on its line
        var model = Single("RC1503");
        model.Message.Should().Contain("embeddings.model").And.Contain("type: openai");
        model.Location!.Line.Should().Be(4);

        // Given a key no embedder reads
        Rewrite("embeddings:\n  type: minilm\n  threads: 2\n");
        Single("RC1003").Location!.Line.Should().Be(4);

        // Given a misspelt type
        Rewrite("embeddings:\n  type: minlm\n");
        var type = Single("RC1007");
        type.Hint.Should().Contain("did you mean 'minilm'");
        type.Location!.Line.Should().Be(3);
    }

    [Fact]
    public async Task The_schema_accepts_the_minilm_type_alone()
    {
        // Given docs/schemas/recal.schema.json
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepositoryPaths.Root, "docs", "schemas", "recal.schema.json"), TestContext.Current.CancellationToken);

        // Then type: minilm validates, with an endpoint's key or an unknown type it does not
        schema.Validate("""{"version":1,"embeddings":{"type":"minilm"}}""").Should().BeEmpty();
        schema.Validate("""{"version":1,"embeddings":{"type":"minilm","model":"m"}}""").Should().NotBeEmpty();
        schema.Validate("""{"version":1,"embeddings":{"type":"minlm"}}""").Should().NotBeEmpty();
        schema.Validate("""{"version":1,"embeddings":{"type":"openai","base_url":"http://127.0.0.1:1/v1","model":"m"}}""").Should().BeEmpty();
    }

    private void Append(string yaml) => File.AppendAllText(Path.Combine(_folder, "recal.yaml"), "\n" + yaml);

    private void Rewrite(string yaml) => File.WriteAllText(Path.Combine(_folder, "recal.yaml"), "version: 1\n" + yaml);

    private Diagnostic Single(string code)
    {
        var result = EvalProjectLoader.Load(_folder);
        return result.Diagnostics.Should().ContainSingle(d => d.Code == code, because: string.Join("\n", result.Diagnostics)).Subject;
    }
}
