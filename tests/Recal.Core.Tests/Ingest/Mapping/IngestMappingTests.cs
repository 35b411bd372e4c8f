using System.Text;
using FluentAssertions;
using NJsonSchema;
using Recal.Core.Tests.Project;
using Recal.Domain;
using Recal.Ingest;
using Recal.Ingest.Mapping;
using Recal.Ingest.Otel;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Ingest.Mapping;

public sealed class IngestMappingTests : IDisposable
{
    private const string Section = """

        ingest:
          format: mapped
          interaction: conversation
          feedback:
            user_score: thumbs
          mapping:
            records: $.items
            id: $.request_id
            timestamp: $.created_at
            input: $.request.messages
            output: $.response.choices[0].text
            model: $['response']['model']
            metadata:
              plan: $.user.plan
              locale: $.user.locale
            feedback:
              thumbs: $.rating.thumb
              csat: $.rating.stars
        """;

    private readonly TempFolder _folder = new();

    public IngestMappingTests() => ProjectScaffolder.Scaffold(_folder.Path, "demo").Should().BeEmpty();

    public void Dispose() => _folder.Dispose();

    private IngestSettings Load()
    {
        var result = EvalProjectLoader.Load(_folder.Path);
        result.Diagnostics.Should().BeEmpty();
        return result.Project!.Settings.Ingest!;
    }

    [Fact]
    public void The_ingest_section_is_read_into_defaults_and_a_mapping()
    {
        File.AppendAllText(Path.Combine(_folder.Path, "recal.yaml"), Section);

        var settings = Load();

        settings.Format.Should().Be(TraceFormat.Mapped);
        settings.Interaction.Should().Be(InteractionRule.Conversation);
        settings.Feedback.Select(f => (f.Key, f.Value)).Should().Equal(("user_score", FeedbackSignal.Thumbs));
        settings.Mapping!.Metadata.Select(m => (m.Key, m.Value.Text)).Should().Equal(("plan", "$.user.plan"), ("locale", "$.user.locale"));
        settings.Mapping.Feedback.Select(f => f.Key).Should().Equal(FeedbackSignal.Thumbs, FeedbackSignal.Csat);
    }

    [Fact]
    public async Task A_project_with_an_ingest_section_validates_against_the_schema()
    {
        File.AppendAllText(Path.Combine(_folder.Path, "recal.yaml"), Section);
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepositoryPaths.Root, "docs", "schemas", "recal.schema.json"), TestContext.Current.CancellationToken);

        schema.Validate(YamlJson.Convert(Path.Combine(_folder.Path, "recal.yaml"))).Should().BeEmpty();
        schema.Validate("""{"version":1,"ingest":{"mapping":{"timestamp":"created_at","input":"$.q"}}}""").Should().NotBeEmpty("a path starts with $");
    }

    [Fact]
    public void Mistakes_in_the_ingest_section_are_located_with_what_is_valid()
    {
        File.AppendAllText(Path.Combine(_folder.Path, "recal.yaml"), """

            ingest:
              format: otlp-jsn
              feedback:
                user_score: thumb
              mapping:
                timestamp: created_at
                input: $.request[messages
                feedback:
                  cast: $.rating.stars
            """);

        var diagnostics = EvalProjectLoader.Load(_folder.Path).Diagnostics;

        diagnostics.Select(d => d.Code).Should().Equal("RC1007", "RC1007", "RC1013", "RC1013", "RC1003");
        diagnostics[0].Hint.Should().Contain("otlp-json");
        diagnostics[1].Hint.Should().Contain("thumbs");
        diagnostics[2].Message.Should().Be("'ingest.mapping.timestamp' is not a JSON path: a JSON path starts with '$' (e.g. $.request.input)");
        diagnostics[3].Message.Should().Contain("'[' at character 10 is not closed");
        diagnostics[4].Hint.Should().Contain("csat");
        diagnostics.Should().OnlyContain(d => d.Location!.File == "recal.yaml" && d.Location.Line > 1 && d.Location.Column > 0);
    }

    [Fact]
    public void Mapped_records_become_traces_and_a_record_missing_a_field_is_a_located_problem()
    {
        File.AppendAllText(Path.Combine(_folder.Path, "recal.yaml"), Section);
        var parser = new MappedJsonParser(Load().Mapping!);
        var document = """
            {"items": [
              {"request_id": "r-1", "created_at": "2026-06-03T10:00:00Z", "request": {"messages": [{"role": "user", "content": "Where is my parcel?"}]},
               "response": {"model": "bot-7", "choices": [{"text": "It arrives tomorrow."}]}, "user": {"plan": "pro", "locale": "fr-FR"}, "rating": {"thumb": "down", "stars": 2}},
              {"request_id": "r-2", "request": {"messages": [{"role": "user", "content": "Hi"}]}},
              {"request_id": "r-3", "created_at": 1780480800000, "request": {"messages": "plain text works too"}, "rating": {"stars": 9}}
            ]}
            """;

        var parts = parser.Parse(Encoding.UTF8.GetBytes(document));

        parts.Parts.Should().HaveCount(2);
        var trace = parts.Parts[0].Trace!;
        trace.Should().BeEquivalentTo(new
        {
            Id = "r-1",
            Timestamp = new DateTimeOffset(2026, 6, 3, 10, 0, 0, TimeSpan.Zero),
            Output = "It arrives tomorrow.",
            Model = "bot-7",
            Feedback = new Feedback(Thumbs: -1, Csat: 2),
        }, o => o.ExcludingMissingMembers());
        trace.Metadata.Should().Equal(new Dictionary<string, string> { ["plan"] = "pro", ["locale"] = "fr-FR" });
        parts.Problems.Select(p => (p.Code, p.Place)).Should().Equal(("RC2004", "[1] (id r-2)"));
        parts.Problems[0].Reason.Should().Be("field 'created_at' ($.created_at) is missing");

        // An unreadable signal costs the signal: r-3 is kept without its CSAT of 9, and the drop is named.
        parts.Parts[1].Trace!.Id.Should().Be("r-3");
        parts.Parts[1].Trace!.Feedback.Should().Be(Feedback.None);
        parts.Dropped.Select(p => (p.Code, p.Place)).Should().Equal(("RC2013", "[2] (id r-3)"));
        parts.Dropped[0].Reason.Should().Contain("(at $.rating.stars)");
    }

    [Theory]
    [InlineData("03/04/2026 10:00")]
    [InlineData("04/03/2026")]
    [InlineData("June 3, 2026")]
    [InlineData("Wed, 03 Jun 2026 10:00:00 GMT")]
    public void A_mapped_time_that_is_not_iso_8601_is_refused_not_guessed(string time)
    {
        File.AppendAllText(Path.Combine(_folder.Path, "recal.yaml"), Section);
        var parser = new MappedJsonParser(Load().Mapping!);
        var document = $$$"""{"items": [{"request_id": "r-1", "created_at": "{{{time}}}", "request": {"messages": "hello"}}]}""";

        var parts = parser.Parse(Encoding.UTF8.GetBytes(document));

        parts.Parts.Should().BeEmpty();
        parts.Problems.Should().ContainSingle().Which.Reason.Should().Contain("is not a time").And.Contain("2026-06-01T09:30:00Z");
    }

    [Theory]
    [InlineData("2026-06-03T10:00:00Z", "2026-06-03T10:00:00Z")]
    [InlineData("2026-06-03T12:00:00.250+02:00", "2026-06-03T10:00:00.25Z")]
    [InlineData("2026-06-03T10:00:00", "2026-06-03T10:00:00Z")]
    [InlineData("2026-06-03 10:00:00.123456", "2026-06-03T10:00:00.123456Z")]
    [InlineData("2026-06-03T10:00Z", "2026-06-03T10:00:00Z")]
    [InlineData("2026-06-03", "2026-06-03T00:00:00Z")]
    public void An_export_time_in_an_iso_8601_form_is_read_as_utc(string text, string expected)
    {
        Recal.Ingest.Exports.ExportRecords.Time(text).Should().Be(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }
}
