using System.Text;
using FluentAssertions;
using Recal.Domain;
using Recal.Ingest;
using Xunit;

namespace Recal.Core.Tests.Ingest;

public sealed class TraceLineParserTests
{
    [Fact]
    public void Parses_a_complete_trace()
    {
        var line = """{"id":"t-1","timestamp":"2026-06-01T09:30:00+02:00","input":"hi","output":"hello","model":"m","metadata":{"plan":"pro","n":3,"nested":{"a":1}},"feedback":{"thumbs":"down","csat":4,"escalated":true,"continued":false,"completed":true,"follow_up":false},"intent":"greeting","extra":1}""";

        var trace = Parse(line).Trace!;

        trace.Id.Should().Be("t-1");
        trace.Timestamp.Should().Be(new DateTimeOffset(2026, 6, 1, 7, 30, 0, TimeSpan.Zero));
        trace.Input.Text.Should().Be("hi");
        trace.Metadata.Should().Contain(new KeyValuePair<string, string>("n", "3")).And.Contain(new KeyValuePair<string, string>("nested", "{\"a\":1}"));
        trace.Feedback.Should().Be(new Feedback(-1, 4, true, false, true, false));
        trace.Intent.Should().Be("greeting");
    }

    [Fact]
    public void Accepts_chat_messages_and_unix_seconds()
    {
        var trace = Parse("""{"timestamp":1780306200,"messages":[{"role":"system","content":"be nice"},{"role":"user","content":"freeze my card"}]}""").Trace!;

        trace.Timestamp.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1780306200));
        trace.Input.Messages.Should().HaveCount(2);
        trace.Input.ClassificationText.Should().Be("freeze my card");
    }

    [Theory]
    [InlineData("""{"timestamp":"2026-06-01T00:00:00Z","input":"x" """, "RC2001", "not valid JSON")]
    [InlineData("""[1,2]""", "RC2002", "must be a JSON object")]
    [InlineData("""{"input":"x"}""", "RC2004", "'timestamp' is missing")]
    [InlineData("""{"timestamp":true,"input":"x"}""", "RC2003", "got true")]
    [InlineData("""{"timestamp":"yesterday","input":"x"}""", "RC2003", "ISO-8601")]
    [InlineData("""{"timestamp":"2026-06-01T00:00:00Z","input":42}""", "RC2003", "'input' must be a string")]
    [InlineData("""{"timestamp":"2026-06-01T00:00:00Z","input":"  "}""", "RC2005", "empty")]
    [InlineData("""{"timestamp":"2026-06-01T00:00:00Z","input":"x","metadata":[]}""", "RC2003", "'metadata' must be an object")]
    [InlineData("""{"timestamp":"2026-06-01T00:00:00Z","input":"x","model":5}""", "RC2003", "'model' must be a string")]
    [InlineData("""{"id":{},"timestamp":"2026-06-01T00:00:00Z","input":"x"}""", "RC2003", "'id' must be a string")]
    public void Rejects_a_broken_line_with_the_reason(string line, string code, string reason)
    {
        var parsed = Parse(line);

        parsed.IsTrace.Should().BeFalse();
        parsed.ErrorCode.Should().Be(code);
        parsed.Error.Should().Contain(reason);
    }

    [Theory]
    [InlineData("""{"thumbs":"sideways","csat":4}""", "feedback.thumbs", 4.0, null)]
    [InlineData("""{"thumbs":"up","csat":9}""", "feedback.csat", null, 1)]
    [InlineData("""{"escalated":"yes","thumbs":-1}""", "feedback.escalated", null, -1)]
    public void A_bad_feedback_signal_is_dropped_and_named_while_the_trace_and_its_other_signals_are_kept(string feedback, string field, double? csat, int? thumbs)
    {
        var parsed = Parse($$"""{"id":"t-1","timestamp":"2026-06-01T00:00:00Z","input":"x","feedback":{{feedback}}}""");

        parsed.IsTrace.Should().BeTrue();
        parsed.Trace!.Id.Should().Be("t-1");
        parsed.Trace.Feedback.Csat.Should().Be(csat);
        parsed.Trace.Feedback.Thumbs.Should().Be(thumbs);
        parsed.Dropped.Should().ContainSingle().Which.Should().Contain($"'{field}'").And.Contain("got");
    }

    [Fact]
    public void Feedback_that_is_not_an_object_is_dropped_and_the_trace_kept()
    {
        var parsed = Parse("""{"timestamp":"2026-06-01T00:00:00Z","input":"x","feedback":[1]}""");

        parsed.IsTrace.Should().BeTrue();
        parsed.Trace!.Feedback.Should().Be(Recal.Domain.Feedback.None);
        parsed.Dropped.Should().Equal("field 'feedback' must be an object, got a list");
    }

    [Theory]
    [InlineData("01/06/2026")]
    [InlineData("03/04/2026 10:00")]
    [InlineData("June 1, 2026")]
    [InlineData("Mon, 01 Jun 2026 09:30:00 GMT")]
    [InlineData("2026-06-01 09:30:00")]
    public void Rejects_a_timestamp_that_is_not_iso_8601_and_names_the_accepted_forms(string timestamp)
    {
        var parsed = Parse($$"""{"timestamp":"{{timestamp}}","input":"x"}""");

        parsed.ErrorCode.Should().Be("RC2003");
        parsed.Hint.Should().Contain("2026-06-01T09:30:00Z").And.Contain("unix seconds").And.Contain("read as UTC");
    }

    [Theory]
    [InlineData("2026-06-01T09:30:00Z", 9)]
    [InlineData("2026-06-01T09:30:00", 9)]
    [InlineData("2026-06-01T11:30:00+02:00", 9)]
    [InlineData("2026-06-01", 0)]
    public void Reads_the_iso_8601_forms_with_a_missing_offset_as_utc(string timestamp, int hour)
    {
        var trace = Parse($$"""{"timestamp":"{{timestamp}}","input":"x"}""").Trace!;

        trace.Timestamp.Offset.Should().Be(TimeSpan.Zero);
        trace.Timestamp.UtcDateTime.Should().Be(new DateTime(2026, 6, 1, hour, hour == 0 ? 0 : 30, 0, DateTimeKind.Utc));
    }

    [Fact]
    public void Rejects_a_lone_surrogate_without_throwing()
    {
        var parsed = Parse("""{"timestamp":"2026-06-01T00:00:00Z","input":"\ud800"}""");

        parsed.ErrorCode.Should().Be("RC2001");
        parsed.Error.Should().Contain("lone surrogate");
    }

    [Fact]
    public void Rejects_invalid_utf8_without_throwing()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"timestamp":"2026-06-01T00:00:00Z","input":"caf""").Concat(new byte[] { 0xC3, 0x28 }).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray();

        var parsed = TraceLineParser.Parse(bytes);

        parsed.IsTrace.Should().BeFalse();
        parsed.Error.Should().Contain("UTF-8");
    }

    [Fact]
    public void Parses_a_ten_megabyte_input()
    {
        var big = new string('a', 10 * 1024 * 1024);

        var parsed = Parse("{\"timestamp\":\"2026-06-01T00:00:00Z\",\"input\":\"" + big + "\"}");

        parsed.Trace!.Input.Text.Should().HaveLength(big.Length);
    }

    [Fact]
    public void Key_is_the_id_when_present_and_a_content_hash_otherwise()
    {
        var withId = Parse("""{"id":"t-9","timestamp":"2026-06-01T00:00:00Z","input":"x"}""").Trace!;
        var a = Parse("""{"timestamp":"2026-06-01T00:00:00Z","input":"x","output":"y"}""").Trace!;
        var b = Parse("""{"output":"y","input":"x","timestamp":"2026-06-01T02:00:00+02:00"}""").Trace!;
        var c = Parse("""{"timestamp":"2026-06-01T00:00:00Z","input":"x","output":"z"}""").Trace!;

        TraceKeys.For(withId).Should().Be("id:t-9");
        TraceKeys.For(a).Should().StartWith("sha256:").And.Be(TraceKeys.For(b));
        TraceKeys.For(c).Should().NotBe(TraceKeys.For(a));
    }

    private static ParsedLine Parse(string line) => TraceLineParser.Parse(Encoding.UTF8.GetBytes(line));
}
