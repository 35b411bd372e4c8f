using FluentAssertions;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Text;
using Xunit;

namespace Recal.Core.Tests.Lifecycle;

public sealed class LabellingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("recal-label-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static IReadOnlyList<Draft> Drafts()
    {
        var policy = SamplerTests.Policy(4);
        var sampler = new Sampler(policy, []);
        sampler.Add(SamplerTests.Trace("t1", "balance", "what is my balance right now"));
        sampler.Add(SamplerTests.Trace("t2", "balance", "how much money do i have"));
        sampler.Add(SamplerTests.Trace("t3", "freeze_account", "please freeze my account"));
        sampler.Add(SamplerTests.Trace("t4", "freeze_account", "lock my account, \"now\""));
        return DraftFile.FromSample(sampler.Draw(), Pool.Gold, "gold-test");
    }

    private static EvalProject Project()
    {
        var taxonomy = new Taxonomy(1, [new IntentDefinition("balance", null, [], [], null), new IntentDefinition("freeze_account", null, [], [], null)], [new CohortDimension("plan", "plan", ["free", "pro"], "unknown")], new ClassifierSettings(0.2));
        return new EvalProject("/tmp", new ProjectSettings(1, "t", "/tmp/x.db", "t", "p", []), taxonomy, SamplerTests.Policy(), []);
    }

    [Fact]
    public void Drafts_survive_a_round_trip_through_their_file()
    {
        var drafts = Drafts();
        var path = Path.Combine(_folder, "d.jsonl");

        using (var workspace = ProjectWorkspace.Open(_folder, "test"))
        {
            DraftFile.Write(workspace, path, drafts);
        }

        var (read, problems) = DraftFile.Read(path);

        problems.Should().BeEmpty();
        read.Should().BeEquivalentTo(drafts);
        read[0].TraceId.Should().NotBeNull();
        read[0].Context.Output.Should().Be("answer");
    }

    [Fact]
    public void A_drafts_note_is_kept_in_its_file_becomes_the_cases_provenance_note_and_older_files_without_one_still_read()
    {
        // Given drafts from a blind spot, and a draft line written before drafts had notes
        var noted = Drafts().Select(d => d with { Note = "blind spot 2 of 5" }).ToList();
        var path = Path.Combine(_folder, "noted.jsonl");
        using (var workspace = ProjectWorkspace.Open(_folder, "test"))
        {
            DraftFile.Write(workspace, path, noted);
        }

        var old = Path.Combine(_folder, "old.jsonl");
        File.WriteAllText(old, DraftFile.ToLine(Drafts()[0]) + "\n");

        // When they are read back, and one is labelled and imported
        var (read, _) = DraftFile.Read(path);
        var (older, problems) = DraftFile.Read(old);
        var labelled = Path.Combine(_folder, "labelled.jsonl");
        File.WriteAllText(labelled, $"{{\"id\": \"{read[0].Id}\", \"references\": [{{\"text\": \"Your balance is on the home screen.\", \"grade\": \"high\"}}]}}\n");
        var result = Labelling.Import(labelled, read, Project(), new DateOnly(2026, 11, 30));

        // Then the note travels with the draft into the case, and the old line reads without one
        read.Should().OnlyContain(d => d.Note == "blind spot 2 of 5");
        File.ReadAllText(old).Should().NotContain("note");
        problems.Should().BeEmpty();
        older.Should().ContainSingle().Which.Note.Should().BeNull();
        result.Cases.Should().ContainSingle().Which.Provenance.Note.Should().Be("blind spot 2 of 5");
    }

    [Fact]
    public void A_labelled_CSV_becomes_cases_and_bad_or_empty_rows_are_reported_by_line_and_stay_drafts()
    {
        // Given the CSV export, labelled by hand: a good row, an unknown intent, an unknown id, a row left empty
        var drafts = Drafts();
        var rows = Csv.Read(new StringReader(Labelling.ToCsv(drafts))).Select(r => r.Fields.ToList()).ToList();
        var header = rows[0];
        int Column(string name) => header.IndexOf(name);
        rows[1][Column("reference_high")] = "Your balance is shown on the home screen, \"Accounts\" tab.";
        rows[1][Column("contains")] = "balance";
        rows[2][Column("reference_high")] = "ok";
        rows[2][Column("intent")] = "balanse";
        rows[3][Column("reference_high")] = "ok";
        rows[3][Column("id")] = "gold-test-9999";
        var path = Path.Combine(_folder, "labelled.csv");
        File.WriteAllText(path, string.Join("\n", rows.Select(r => Csv.Line(r))) + "\n");

        // When it is imported
        var result = Labelling.Import(path, drafts, Project(), new DateOnly(2026, 11, 29));

        // Then the good row is a gold case with its reference and assertion, the bad rows are located errors
        result.Cases.Should().ContainSingle();
        var created = result.Cases[0];
        created.Id.Should().Be(drafts[0].Id);
        created.Pool.Should().Be(Pool.Gold);
        created.References.Should().ContainSingle().Which.Text.Should().Contain("\"Accounts\"");
        created.Assertions.Should().ContainSingle().Which.Type.Should().Be("contains");
        created.Provenance.TraceId.Should().Be(drafts[0].TraceId);
        created.Added.Should().Be(new DateOnly(2026, 11, 29));
        result.Diagnostics.Should().HaveCount(2);
        result.Diagnostics.Should().Contain(d => d.Code == "RC1203" && d.Location!.Line == 3 && d.Hint!.Contains("balance"));
        result.Diagnostics.Should().Contain(d => d.Code == "RC1601" && d.Location!.Line == 4);
        result.Unlabelled.Should().Equal(drafts[3].Id);
    }

    [Fact]
    public void The_CSV_carries_each_drafts_trace_id_and_import_refuses_a_row_whose_trace_id_is_not_its_drafts()
    {
        // Given the CSV export: every row names the trace its draft was drawn from
        var drafts = Drafts();
        var rows = Csv.Read(new StringReader(Labelling.ToCsv(drafts))).Select(r => r.Fields.ToList()).ToList();
        var header = rows[0];
        int Column(string name) => header.IndexOf(name);
        header.Take(3).Should().Equal("id", "trace_id", "pool");
        rows.Skip(1).Select(r => r[Column("trace_id")]).Should().Equal(drafts.Select(d => d.TraceId));

        // When rows are labelled: one as exported, one with another draft's trace id, one with trace_id emptied
        foreach (var row in rows.Skip(1).Take(3))
        {
            row[Column("reference_high")] = "ok";
        }

        rows[2][Column("trace_id")] = drafts[2].TraceId!;
        rows[3][Column("trace_id")] = string.Empty;
        var path = Path.Combine(_folder, "labelled.csv");
        File.WriteAllText(path, string.Join("\n", rows.Select(r => Csv.Line(r))) + "\n");
        var result = Labelling.Import(path, drafts, Project(), new DateOnly(2026, 11, 29));

        // Then the mismatched row is a located error and stays a draft; the others become cases
        var error = result.Diagnostics.Should().ContainSingle().Which;
        error.Code.Should().Be("RC1603");
        error.Location!.Line.Should().Be(3);
        error.Message.Should().Be($"the row's trace_id '{drafts[2].TraceId}' is not the trace draft '{drafts[1].Id}' was drawn from ('{drafts[1].TraceId}')");
        result.Cases.Select(c => c.Id).Should().Equal(drafts[0].Id, drafts[2].Id);
        result.Cases.Select(c => c.Provenance.TraceId).Should().Equal(drafts[0].TraceId, drafts[2].TraceId);
    }

    [Fact]
    public void A_CSV_exported_before_the_trace_id_column_still_imports()
    {
        // Given a labelled CSV in the older column layout, without trace_id
        var drafts = Drafts();
        var rows = Csv.Read(new StringReader(Labelling.ToCsv(drafts))).Select(r => r.Fields.ToList()).ToList();
        var traceColumn = rows[0].IndexOf("trace_id");
        foreach (var row in rows)
        {
            row.RemoveAt(traceColumn);
        }

        rows[1][rows[0].IndexOf("reference_high")] = "ok";
        var path = Path.Combine(_folder, "old.csv");
        File.WriteAllText(path, string.Join("\n", rows.Select(r => Csv.Line(r))) + "\n");

        var result = Labelling.Import(path, drafts, Project(), new DateOnly(2026, 11, 29));

        result.Diagnostics.Should().BeEmpty();
        result.Cases.Should().ContainSingle().Which.Provenance.TraceId.Should().Be(drafts[0].TraceId);
    }

    [Fact]
    public void A_JSONL_row_whose_trace_id_is_not_its_drafts_is_refused()
    {
        var drafts = Drafts();
        var lines = Labelling.ToJsonl(drafts).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        lines[0] = lines[0].Replace("\"references\":[]", "\"references\":[{\"text\":\"Here it is.\",\"grade\":\"high\"}]", StringComparison.Ordinal)
            .Replace($"\"trace_id\":\"{drafts[0].TraceId}\"", "\"trace_id\":\"someone-else\"", StringComparison.Ordinal);
        var path = Path.Combine(_folder, "labelled.jsonl");
        File.WriteAllLines(path, lines);

        var result = Labelling.Import(path, drafts, Project(), new DateOnly(2026, 11, 29));

        result.Cases.Should().BeEmpty();
        result.Diagnostics.Should().ContainSingle().Which.Should().Match<Recal.Diagnostics.Diagnostic>(d => d.Code == "RC1603" && d.Location!.Line == 1);
    }

    [Fact]
    public void A_labelled_JSONL_with_a_broken_line_imports_the_rest()
    {
        var drafts = Drafts();
        var lines = Labelling.ToJsonl(drafts).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        lines[0] = lines[0].Replace("\"references\":[]", "\"references\":[{\"text\":\"Here it is.\",\"grade\":\"high\"},{\"text\":\"See the app.\",\"grade\":\"borderline\"}]", StringComparison.Ordinal);
        lines[1] = lines[1].Replace("\"references\":[]", "\"references\":[{\"text\":\"x\",\"grade\":\"best\"}]", StringComparison.Ordinal);
        lines[2] = "{not json";
        var path = Path.Combine(_folder, "labelled.jsonl");
        File.WriteAllLines(path, lines);

        var result = Labelling.Import(path, drafts, Project(), new DateOnly(2026, 11, 29));

        result.Cases.Should().ContainSingle().Which.References.Should().HaveCount(2);
        result.Diagnostics.Select(d => (d.Code, d.Location!.Line)).Should().BeEquivalentTo([("RC1204", (int?)2), ("RC1201", (int?)3)]);
        result.Unlabelled.Should().Equal(drafts[3].Id);
    }

    [Fact]
    public void CSV_fields_with_commas_quotes_and_line_breaks_round_trip()
    {
        string[] fields = ["plain", "with, comma", "with \"quotes\"", "two\nlines", ""];

        var read = Csv.Read(new StringReader(Csv.Line(fields) + "\n" + Csv.Line(["next"]) + "\n")).ToList();

        read[0].Fields.Should().Equal(fields);
        read[1].Line.Should().Be(3);
    }
}
