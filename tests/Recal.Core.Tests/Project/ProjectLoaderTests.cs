using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Project;

public sealed class ProjectLoaderTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public ProjectLoaderTests() => ProjectScaffolder.Scaffold(_folder.Path, "demo").Should().BeEmpty();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Scaffolded_project_loads_without_a_single_diagnostic()
    {
        var result = EvalProjectLoader.Load(_folder.Path);

        result.Diagnostics.Should().BeEmpty();
        result.Project!.Cases.Should().HaveCount(3);
        result.Project.Taxonomy.Intents.Select(i => i.Name).Should().Equal("refund", "cancel_subscription", "reset_password");
        result.Project.Policy.TrafficWindow.Should().Be(TimeSpan.FromDays(28));
        result.Project.Settings.StorePath.Should().Be(Path.Combine(_folder.Path, ".recal", "recal.db"));
    }

    [Fact]
    public void Scaffold_refuses_to_overwrite_an_existing_project()
    {
        var diagnostics = ProjectScaffolder.Scaffold(_folder.Path, "again");

        diagnostics.Should().Contain(d => d.Code == "RC1010" && d.Message.Contains("recal.yaml"));
    }

    [Fact]
    public void Unknown_policy_key_is_located_and_gets_the_nearest_spelling()
    {
        // Given 'floor' misspelt on line 14 of policy.yaml
        Replace("policy.yaml", "  floor: 5 ", "  flor: 5 ");

        // When the project loads
        var error = Single("RC1003");

        // Then the diagnostic points at the key and suggests 'floor'
        error.Location!.File.Should().Be("policy.yaml");
        error.Location.Line.Should().Be(LineOf("policy.yaml", "flor:"));
        error.Location.Column.Should().Be(3);
        error.Hint.Should().Contain("did you mean 'floor'");
    }

    [Fact]
    public void The_starter_gates_load_as_the_defaults_and_a_changed_one_is_read()
    {
        EvalProjectLoader.Load(_folder.Path).Project!.Policy.Gates.Should().Be(GatePolicy.Defaults);
        Replace("policy.yaml", "  unknown: fail ", "  unknown: pass ");
        Replace("policy.yaml", "    mode: shadow ", "    mode: canary ");
        var gates = EvalProjectLoader.Load(_folder.Path).Project!.Policy.Gates;
        gates.Unknown.Should().Be(UnknownVerdict.Pass);
        gates.EffectiveOnlineTolerance.Should().Be(0.02);
    }

    [Fact]
    public void Ownership_is_read_with_its_hand_over_date_and_a_bad_date_is_located()
    {
        File.AppendAllText(Path.Combine(_folder.Path, "policy.yaml"), "\nownership:\n  owner: ana\n  since: 2026-09-01\n  rotation: 90d\n");
        var ownership = EvalProjectLoader.Load(_folder.Path).Project!.Policy.Ownership!;
        ownership.Owner.Should().Be("ana");
        ownership.HandOverDue.Should().Be(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));

        Replace("policy.yaml", "  since: 2026-09-01", "  since: 1 Sept");
        var error = Single("RC1109");
        error.Location!.Line.Should().Be(LineOf("policy.yaml", "since: 1 Sept"));
        error.Hint.Should().Contain("YYYY-MM-DD");
    }

    [Fact]
    public void A_gold_segment_the_runs_do_not_have_is_located_with_the_nearest_one()
    {
        // Given gates.gold.by naming 'intnet'
        Replace("policy.yaml", "    min_cases: 10 ", "    by: [intnet]\n    min_cases: 10 ");

        var error = Single("RC1108");

        error.Location!.Line.Should().Be(LineOf("policy.yaml", "by: [intnet]"));
        error.Hint.Should().Contain("did you mean 'intent'");
    }

    [Fact]
    public void Unknown_pool_value_in_a_case_gets_line_column_and_suggestion()
    {
        Replace("cases/gold.jsonl", "\"pool\":\"gold\",\"tags\":[\"starter\",\"account\"]", "\"pool\":\"gould\",\"tags\":[\"starter\",\"account\"]");

        var error = Single("RC1007");

        error.Location!.File.Should().Be(Path.Combine("cases", "gold.jsonl"));
        error.Location.Line.Should().Be(3);
        error.Location.Column.Should().BeGreaterThan(1);
        error.Hint.Should().Contain("did you mean 'gold'");
    }

    [Fact]
    public void Case_with_an_intent_the_taxonomy_lacks_is_an_error_with_the_nearest_intent()
    {
        Replace("cases/gold.jsonl", "\"intent\":\"refund\"", "\"intent\":\"refnd\"");

        var error = Single("RC1203");

        error.Location!.CaseId.Should().Be("gold-0001");
        error.Hint.Should().Contain("did you mean 'refund'");
    }

    [Fact]
    public void Duplicate_case_ids_name_both_places()
    {
        Replace("cases/gold.jsonl", "\"id\":\"gold-0002\"", "\"id\":\"gold-0001\"");

        var error = Single("RC1202");

        error.Location!.Line.Should().Be(2);
        error.Hint.Should().Contain(":1");
    }

    [Fact]
    public void Reference_without_a_grade_is_reported()
    {
        Replace("cases/gold.jsonl", ",\"grade\":\"borderline\"", string.Empty);

        Single("RC1204").Message.Should().Contain("no grade");
    }

    [Fact]
    public void Unknown_assertion_type_gets_the_nearest_type()
    {
        Replace("cases/gold.jsonl", "\"type\":\"not_contains\"", "\"type\":\"not_contain\"");

        Single("RC1209").Hint.Should().Contain("did you mean 'not_contains'");
    }

    [Fact]
    public void Case_with_neither_references_nor_assertions_is_reported()
    {
        Replace("cases/gold.jsonl", "\"references\":[{\"text\":\"I've sent a password reset link to the email on your account.\",\"grade\":\"high\"}],\"assertions\":[{\"type\":\"not_contains\",\"value\":\"password is\"}]", "\"references\":[],\"assertions\":[]");

        Single("RC1205").Location!.Line.Should().Be(3);
    }

    [Fact]
    public void Invalid_json_in_a_case_line_is_located_and_the_other_cases_still_load()
    {
        Replace("cases/gold.jsonl", "{\"id\":\"gold-0002\"", "{\"id\":gold-0002\"");

        var result = EvalProjectLoader.Load(_folder.Path);

        var error = result.Diagnostics.Single(d => d.Code == "RC1201");
        error.Location!.Line.Should().Be(2);
        error.Location.Column.Should().Be(7);
        result.Project!.Cases.Select(c => c.Id).Should().Equal("gold-0001", "gold-0003");
    }

    [Fact]
    public void A_mix_alarm_set_at_an_absolute_level_of_an_older_policy_warns_at_its_line()
    {
        // Given a policy whose js_distance is an old absolute level, read now as a minimum rise
        Replace("policy.yaml", "\n  js_distance: 0.03 ", "\n  js_distance: 0.25 ");

        // Then validation warns at that key and says what the default is, and the project still loads
        var warning = Single("RC1107");
        warning.Severity.Should().Be(Severity.Warning);
        warning.Message.Should().Contain("alarms.js_distance is 0.25");
        warning.Hint.Should().Contain("the default is 0.03");
        File.ReadAllLines(Path.Combine(_folder.Path, "policy.yaml"))[warning.Location!.Line!.Value - 1].Should().Contain("js_distance: 0.25");
    }

    [Fact]
    public void Weights_that_sum_above_one_are_rejected_and_never_rescaled_with_the_values_they_would_have_divided()
    {
        Replace("policy.yaml", "weights: {}", "weights: {refund: 0.7, reset_password: 0.6}");

        var error = Single("RC1105");

        error.Severity.Should().Be(Severity.Error);
        error.Message.Should().Be("strata weights sum to 1.3 (refund 0.7 + reset_password 0.6), more than 1: weights are shares of the set, and Recal never rescales them");
        error.Hint.Should().Be("lower them so they sum to at most 1; divided by 1.3 they would be refund: 0.538, reset_password: 0.462");
    }

    [Fact]
    public void A_single_weight_above_one_is_out_of_range()
    {
        Replace("policy.yaml", "weights: {}", "weights: {refund: 1.5}");

        Single("RC1006").Message.Should().Be("'strata.weights.refund' is 1.5; it must be between 0 and 1");
    }

    [Fact]
    public void Weights_must_sum_to_one_when_unlisted_strata_get_nothing()
    {
        Replace("policy.yaml", "default: traffic", "default: none");
        Replace("policy.yaml", "weights: {}", "weights: {refund: 0.5, reset_password: 0.3}");

        Single("RC1105").Message.Should().Contain("must sum to 1");
    }

    [Fact]
    public void Weight_naming_an_unknown_stratum_gets_the_nearest_intent()
    {
        Replace("policy.yaml", "weights: {}", "weights: {refnd: 0.2}");

        Single("RC1104").Hint.Should().Contain("did you mean 'refund'");
    }

    [Fact]
    public void A_size_below_what_the_floors_need_is_a_notice_with_the_numbers_and_the_project_loads()
    {
        // Given a size of 10 and a floor of 5 for the taxonomy's three intents and 'unknown'
        Replace("policy.yaml", "size: 200", "size: 10");

        // Then validation warns at the floor with the arithmetic, the same rule recal sample --size applies, and loads
        var notice = Single("RC1106");
        notice.Severity.Should().Be(Severity.Warning);
        notice.Message.Should().Be("a floor of 5 case(s) for each of 4 strata needs 20 cases, more than the size 10: floors apply per stratum and win over the size, so a draw in which every stratum has 5 eligible trace(s) holds at least 20 cases, not 10");
        notice.Hint.Should().Be("to draw about 10, lower strata.floor to at most 2 or stratify by fewer keys; or raise the size to at least 20");
        notice.Location!.Line.Should().Be(LineOf("policy.yaml", "  floor:"));
        EvalProjectLoader.Load(_folder.Path).Diagnostics.Should().NotContain(d => d.Severity == Severity.Error);
    }

    [Fact]
    public void Stratifying_by_an_unknown_cohort_dimension_is_rejected()
    {
        Replace("policy.yaml", "by: [intent]", "by: [intent, plna]");

        Single("RC1103").Hint.Should().Contain("did you mean 'plan'");
    }

    [Fact]
    public void A_holdout_of_the_whole_set_is_rejected()
    {
        Replace("policy.yaml", "holdout_fraction: 0.2", "holdout_fraction: 1");

        Single("RC1006").Message.Should().Contain("holdout_fraction");
    }

    [Fact]
    public void Bad_duration_says_how_to_write_one()
    {
        Replace("policy.yaml", "traffic_window: 28d", "traffic_window: 28 days");

        Single("RC1009").Hint.Should().Contain("28d");
    }

    [Fact]
    public void Valid_until_before_added_is_rejected()
    {
        Replace("cases/gold.jsonl", "\"added\":\"2026-01-05\",\"valid_until\":null,\"pool\":\"gold\",\"tags\":[\"starter\",\"billing\"]}\n{\"id\":\"gold-0002\"",
            "\"added\":\"2026-01-05\",\"valid_until\":\"2025-12-31\",\"pool\":\"gold\",\"tags\":[\"starter\",\"billing\"]}\n{\"id\":\"gold-0002\"");

        Single("RC1207").Location!.Line.Should().Be(1);
    }

    [Fact]
    public void Newer_project_format_is_refused_with_what_to_do()
    {
        Replace("recal.yaml", "version: 1", "version: 9");

        Single("RC1008").Hint.Should().Contain("upgrade");
    }

    [Fact]
    public void Yaml_syntax_error_is_located()
    {
        Replace("taxonomy.yaml", "    group: billing\n    description: Asks for money back", "    group: billing\n   description: Asks for money back");

        var error = EvalProjectLoader.Load(_folder.Path).Diagnostics.Single(d => d.Code == "RC1002");

        error.Location!.File.Should().EndWith("taxonomy.yaml");
        error.Location.Line.Should().Be(LineOf("taxonomy.yaml", "   description: Asks for money back"));
    }

    [Fact]
    public void Unterminated_flow_list_is_a_syntax_error_not_a_crash()
    {
        Replace("taxonomy.yaml", "  - name: refund", "  - name: [refund");

        EvalProjectLoader.Load(_folder.Path).Diagnostics.Should().ContainSingle(d => d.Code == "RC1002");
    }

    [Fact]
    public void Every_problem_is_reported_in_one_pass()
    {
        Replace("policy.yaml", "  floor: 5 ", "  flor: 5 ");
        Replace("policy.yaml", "size: 200", "size: 0");
        Replace("cases/gold.jsonl", "\"intent\":\"refund\"", "\"intent\":\"refnd\"");
        Replace("cases/gold.jsonl", "\"difficulty\":\"medium\"", "\"difficulty\":\"mediun\"");

        var codes = EvalProjectLoader.Load(_folder.Path).Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => d.Code).ToList();

        codes.Should().Contain(["RC1003", "RC1006", "RC1203", "RC1007"]);
    }

    [Fact]
    public void Intent_with_few_examples_is_a_warning_not_an_error()
    {
        Replace("taxonomy.yaml", "      - refund my subscription\n", string.Empty);
        Replace("taxonomy.yaml", "      - please return the payment for the broken item\n", string.Empty);

        var result = EvalProjectLoader.Load(_folder.Path);

        result.HasErrors.Should().BeFalse();
        result.Diagnostics.Should().ContainSingle(d => d.Code == "RC1102" && d.Severity == Severity.Warning);
    }

    [Fact]
    public void Suite_version_changes_when_a_case_changes_and_not_otherwise()
    {
        var before = ProjectHasher.SuiteVersion(EvalProjectLoader.Load(_folder.Path).Project!);
        ProjectHasher.SuiteVersion(EvalProjectLoader.Load(_folder.Path).Project!).Should().Be(before);

        Replace("cases/gold.jsonl", "stop charging me every month", "stop charging me every week");

        ProjectHasher.SuiteVersion(EvalProjectLoader.Load(_folder.Path).Project!).Should().NotBe(before).And.HaveLength(12);
    }

    [Fact]
    public void Case_written_back_reads_the_same()
    {
        var original = EvalProjectLoader.Load(_folder.Path).Project!.Cases[0];

        var bag = new DiagnosticBag();
        var reread = CaseFileReader.Parse(CaseFileWriter.ToJson(original), new SourceLocation("x.jsonl", 1), bag)!;

        bag.Items.Should().BeEmpty();
        CaseFileWriter.ToJson(reread).Should().Be(CaseFileWriter.ToJson(original));
        reread.References.Select(r => r.Grade).Should().Equal(ReferenceGrade.High, ReferenceGrade.Borderline);
    }

    private Diagnostic Single(string code) => _folder.SingleDiagnostic(code);

    private void Replace(string file, string from, string to) => _folder.Replace(file, from, to);

    private int LineOf(string file, string text) =>
        File.ReadAllLines(Path.Combine(_folder.Path, file)).Select((line, i) => (line, i)).First(x => x.line.Contains(text, StringComparison.Ordinal)).i + 1;
}
