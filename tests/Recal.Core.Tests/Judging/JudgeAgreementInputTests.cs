using FluentAssertions;
using Recal.Diagnostics;
using Recal.Judging;
using Xunit;

namespace Recal.Core.Tests.Judging;

public sealed class JudgeAgreementInputTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("recal-judging-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Reads_a_json_array_an_items_object_and_json_lines_alike_with_line_numbers()
    {
        // Given the same two items as JSON Lines, a pretty-printed array and {"items": [...]}, the array with a bad item
        var lines = Write("a.jsonl", """
            {"id":"q1","human":"A","judge":"A"}
            {"id":"q2","human":"B","judge":"A"}
            """);
        var array = Write("b.json", """
            [
              {"id": "q1", "human": "A", "judge": "A"},
              {"id": "q2",
               "human": "B", "judge": "A"},
              {"id": "q3", "judge": "A"}
            ]
            """);
        var wrapped = Write("c.json", """
            {
              "source": "mt-bench",
              "items": [
                {"id": "q1", "human": "A", "judge": "A"},
                {"id": "q2", "human": "B", "judge": "A"}
              ]
            }
            """);

        var compact = Write("c2.json", """{"items":[{"id":"q1","human":"A","judge":"A"},{"id":"q2","human":"B","judge":"A"}]}""");

        // When each is read
        var diagnostics = new DiagnosticBag();
        JudgeAgreementReader.Read(compact, diagnostics).Select(i => i.Id).Should().Equal("q1", "q2");
        var fromLines = JudgeAgreementReader.Read(lines, diagnostics);
        var fromArray = JudgeAgreementReader.Read(array, diagnostics);
        var fromObject = JudgeAgreementReader.Read(wrapped, diagnostics);

        // Then all give the same items, each located at the line it starts on, and the bad item is located
        fromLines.Select(i => (i.Id, i.Human, i.Judge)).Should().Equal(fromArray.Select(i => (i.Id, i.Human, i.Judge)));
        fromObject.Select(i => i.Id).Should().Equal("q1", "q2");
        fromArray.Select(i => i.Location!.Line).Should().Equal(2, 3);
        fromObject.Select(i => i.Location!.Line).Should().Equal(4, 5);
        diagnostics.Items.Should().ContainSingle().Which.Location!.Line.Should().Be(5);
    }

    [Fact]
    public void A_whole_file_json_object_without_items_gets_a_hint_and_a_broken_line_is_located()
    {
        // Given a pretty-printed object that is not {"items": [...]}, and JSON Lines with a broken line
        var document = Write("d.json", """
            {
              "data": [{"id": "q1", "human": "A", "judge": "A"}]
            }
            """);
        var broken = Write("e.jsonl", """
            {"id":"q1","human":"A","judge":"A"}
            {"id":"q2","human":"A",
            """);

        // When they are read
        var diagnostics = new DiagnosticBag();
        JudgeAgreementReader.Read(document, diagnostics).Should().BeEmpty();
        JudgeAgreementReader.Read(broken, diagnostics).Should().ContainSingle();

        // Then the object is refused with the formats that would be read, and the broken line named
        diagnostics.Items[0].Code.Should().Be("RC1403");
        diagnostics.Items[0].Hint.Should().Contain("{\"items\": [...]}");
        diagnostics.Items[1].Location!.Line.Should().Be(2);
        diagnostics.Items[1].Hint.Should().Contain("one whole item per line");
    }

    [Fact]
    public void Several_judges_come_from_a_judge_id_column_or_a_judges_object_and_duplicates_are_flagged()
    {
        // Given long rows (judge_id) and a wide row (judges), one id given twice for the same judge
        var file = Write("f.jsonl", """
            {"id":"q1","human":"A","judge":"A","judge_swapped":"B","judge_id":"gpt-4"}
            {"id":"q1","human":"A","judge":"B","judge_id":"claude"}
            {"id":"q2","human":"B","judges":{"gpt-4":{"judge":"B","judge_swapped":null},"claude":"B","llama":null}}
            {"id":"q1","human":"A","judge":"A","judge_id":"gpt-4"}
            """);

        // When it is read
        var diagnostics = new DiagnosticBag();
        var items = JudgeAgreementReader.Read(file, diagnostics);

        // Then each judge's verdicts are items of their own, nulls are unparsed, and the duplicate is skipped with both lines named
        items.Select(i => (i.Id, i.JudgeId, i.Judge, i.JudgeSwapped)).Should().Equal(
            ("q1", "gpt-4", "A", "B"), ("q1", "claude", "B", null), ("q2", "gpt-4", "B", JudgeAgreement.Unparsed), ("q2", "claude", "B", null), ("q2", "llama", JudgeAgreement.Unparsed, null));
        var duplicate = diagnostics.Items.Should().ContainSingle().Subject;
        duplicate.Code.Should().Be("RC1402");
        duplicate.Location!.Line.Should().Be(4);
        duplicate.Message.Should().Contain("first given at line 1").And.Contain("gpt-4");
    }

    [Fact]
    public void Case_differences_are_errors_unless_folded_and_never_silent_disagreements()
    {
        // Given humans who write A/B and a judge who writes a/b
        var items = Enumerable.Range(0, 20).Select(i => new LabelledJudgment($"q{i}", "s", i % 2 == 0 ? "A" : "B", i % 2 == 0 ? "a" : "b", null, "lower", new SourceLocation("x.jsonl", i + 1))).ToList();

        // When measured as they are
        var strict = new DiagnosticBag();
        var report = JudgeAgreement.Measure(items, diagnostics: strict);

        // Then each spelling is one error naming its first line, its count and the right spelling, and the verdicts count as unparsed
        strict.Items.Should().HaveCount(2).And.OnlyContain(d => d.Code == "RC1405" && d.Severity == Severity.Error);
        strict.Items[0].Location!.Line.Should().Be(1);
        strict.Items[0].Message.Should().Contain("'a' (10 times)").And.Contain("'A'");
        strict.Items[0].Hint.Should().Contain("--ignore-case");
        report.Rows[0].Unparsed.Should().Be(20);

        // And with --ignore-case they are folded onto the humans' spelling
        var folded = new DiagnosticBag();
        JudgeAgreement.Measure(items, new JudgeAgreementOptions(IgnoreCase: true), folded).Rows[0].Shown.Accuracy.Should().Be(1);
        folded.Items.Should().BeEmpty();
    }

    [Fact]
    public void Disjoint_vocabularies_are_an_error_and_unknown_labels_a_warning()
    {
        // Given a judge answering yes/no to pass/fail labels, and another who once says "maybe"
        var items = new List<LabelledJudgment>();
        for (var i = 0; i < 10; i++)
        {
            var human = i % 2 == 0 ? "pass" : "fail";
            items.Add(new($"q{i}", "s", human, i % 2 == 0 ? "yes" : "no", null, "other", new SourceLocation("x.jsonl", (2 * i) + 1)));
            items.Add(new($"q{i}", "s", human, i == 3 ? "maybe" : human, null, "good", new SourceLocation("x.jsonl", (2 * i) + 2)));
        }

        // When measured
        var diagnostics = new DiagnosticBag();
        var report = JudgeAgreement.Measure(items, diagnostics: diagnostics);

        // Then the disjoint judge is one located error naming both vocabularies, and the stray label a located warning
        var disjoint = diagnostics.Items.Should().ContainSingle(d => d.Code == "RC1407").Subject;
        disjoint.Severity.Should().Be(Severity.Error);
        disjoint.Message.Should().Contain("{no, yes}").And.Contain("{fail, pass}");
        disjoint.Location!.Line.Should().Be(1);
        var unknown = diagnostics.Items.Should().ContainSingle(d => d.Code == "RC1406").Subject;
        unknown.Severity.Should().Be(Severity.Warning);
        unknown.Location!.Line.Should().Be(8);
        report.Rows.Single(r => r.Judge == "good" && r.Segment == JudgeAgreement.Overall).Unparsed.Should().Be(1);
    }

    [Fact]
    public void Swapped_verdicts_given_in_the_original_frame_are_detected_by_their_statistics()
    {
        // Given a good, position-consistent judge whose file wrote judge_swapped already mapped back to the original answers
        var random = new Random(7);
        var items = Enumerable.Range(0, 60).Select(i =>
        {
            var human = random.Next(2) == 0 ? "A" : "B";
            return new LabelledJudgment($"q{i}", "s", human, human, human, "gpt-4", new SourceLocation("x.jsonl", i + 1));
        }).ToList();

        // When measured with the default (presented) frame, and with --swapped-frame original
        var presented = new DiagnosticBag();
        var asPresented = JudgeAgreement.Measure(items, diagnostics: presented);
        var original = new DiagnosticBag();
        var asOriginal = JudgeAgreement.Measure(items, new JudgeAgreementOptions(Frame: SwappedFrame.Original), original);

        // Then the first warns and names the setting that fits, and the second reads the judge as consistent
        var warning = presented.Items.Should().ContainSingle().Subject;
        warning.Code.Should().Be("RC1408");
        warning.Hint.Should().Contain("--swapped-frame original");
        asPresented.Rows[0].PositionConsistency.Should().Be(0);
        original.Items.Should().BeEmpty();
        asOriginal.Rows[0].PositionConsistency.Should().Be(1);
        asOriginal.Rows[0].CorrectInBothOrders.Should().Be(60);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, text);
        return path;
    }
}
