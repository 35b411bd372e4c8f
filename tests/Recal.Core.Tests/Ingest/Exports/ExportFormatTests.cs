using System.Text;
using FluentAssertions;
using Recal.Ingest;
using Recal.Ingest.Exports;
using Xunit;

namespace Recal.Core.Tests.Ingest.Exports;

public sealed class ExportFormatTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Exports", name);

    [Theory]
    [InlineData("langfuse-traces.json", TraceFormat.Langfuse)]
    [InlineData("langfuse-observations.jsonl", TraceFormat.Langfuse)]
    [InlineData("langfuse-scores.jsonl", TraceFormat.Langfuse)]
    [InlineData("langfuse-traces.csv", TraceFormat.Langfuse)]
    [InlineData("langfuse-observations.csv", TraceFormat.Langfuse)]
    [InlineData("langfuse-scores.csv", TraceFormat.Langfuse)]
    [InlineData("langsmith-runs.jsonl", TraceFormat.LangSmith)]
    [InlineData("langsmith-feedback.jsonl", TraceFormat.LangSmith)]
    public void The_export_is_detected_from_its_fields(string fixture, TraceFormat format) =>
        TraceFormats.Detect(Fixture(fixture)).Should().Be(format);

    [Fact]
    public void LangChain_serialised_messages_and_generations_read_as_chat_messages_and_the_answer()
    {
        var parts = new LangSmithParser().Parse(Encoding.UTF8.GetBytes(File.ReadAllLines(Fixture("langsmith-runs.jsonl"))[1]));

        var trace = parts.Parts.Should().ContainSingle().Subject.Trace!;
        trace.Input.Messages!.Select(m => (m.Role, m.Content)).Should().Equal(("system", "You are the support assistant of Acme Bank."), ("user", "How do I reset my card PIN?"));
        trace.Output.Should().Be("Open the app, go to Cards and tap Reset PIN.");
        trace.Model.Should().Be("gpt-4o-mini-2024-07-18");
        trace.Timestamp.Should().Be(new DateTimeOffset(2026, 6, 2, 9, 0, 0, 100, TimeSpan.Zero), "LangSmith writes UTC times without an offset");
    }

    [Fact]
    public void Langfuse_scores_map_by_name_and_an_unreadable_value_is_a_located_problem()
    {
        var parts = new LangfuseParser().Parse(Encoding.UTF8.GetBytes("[" + string.Join(",", File.ReadAllLines(Fixture("langfuse-scores.jsonl"))) + "]"));

        parts.Parts.Select(p => (p.Key, p.Feedback.Csat, p.Feedback.Thumbs, p.Feedback.Escalated)).Should().Equal(
            ("id:lf-trace-2", 4.0, null, null), ("id:lf-trace-2", null, -1, null), ("id:lf-trace-1", null, null, true), ("id:lf-trace-9", 2.0, null, null));
        parts.Problems.Should().ContainSingle().Which.Should().Be(new PayloadProblem("RC2003", "[4] (score sc-6 of trace lf-trace-1)", "feedback 'csat' maps to csat but its value 11 cannot be read as one (a number from 1 to 5)"));
    }

    [Fact]
    public void A_Langfuse_CSV_record_is_read_against_its_header_and_a_bad_one_says_what_is_wrong()
    {
        var parser = new LangfuseCsvParser(["id", "trace_id", "name", "value", "data_type", "string_value"]);

        var good = parser.Parse(Encoding.UTF8.GetBytes("sc-1,lf-trace-1,csat,4,NUMERIC,"));
        var open = parser.Parse(Encoding.UTF8.GetBytes("sc-2,lf-trace-1,\"csat,4,NUMERIC,"));
        var short_ = parser.Parse(Encoding.UTF8.GetBytes("sc-3,lf-trace-1,csat"));

        good.Parts.Should().ContainSingle().Which.Should().Match<TracePart>(p => p.Key == "id:lf-trace-1" && p.Feedback.Csat == 4);
        open.Problems.Should().ContainSingle().Which.Reason.Should().Be("the quoted field that starts at character 17 never closes: a field's closing '\"' is missing (a '\"' inside a quoted field is written '\"\"')");
        new LangfuseCsvParser([]).Parse(Encoding.UTF8.GetBytes("sc-1,lf-trace-1")).Problems.Should().ContainSingle().Which.Code.Should().Be("RC2004");
        short_.Problems.Should().ContainSingle().Which.Reason.Should().Be("the record has 3 field(s) where the header names 6 (id, trace_id, name, value, data_type, string_value); a field holding a comma, a quote or a line break must be quoted");
    }

    [Fact]
    public void Feedback_names_map_by_the_command_line_and_a_bad_mapping_says_what_is_valid()
    {
        var (map, errors) = FeedbackMap.Parse(["user_score=thumbs", "quality", "nps=stars"]);

        map.TryGet("user_score", out var signal).Should().BeTrue();
        signal.Should().Be(FeedbackSignal.Thumbs);
        errors.Select(e => e.Message).Should().Equal("--feedback 'quality' is not NAME=SIGNAL", "--feedback 'nps=stars': 'stars' is not a signal");
        errors[1].Hint.Should().Contain("thumbs, csat, escalated, continued, completed, follow_up");
    }
}
