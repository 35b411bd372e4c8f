using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using Recal.Project;
using Recal.Samples.Bot;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// The sample's score side, end to end: the sample support bot served in-process on loopback, the two bot versions
/// run with the judge ensemble over gold and shadow, and their reports side by side with today's traffic.
/// </summary>
public sealed partial class SampleRunEndToEndTests : IAsyncLifetime
{
    private const string BotUrlVariable = "${RECAL_SAMPLE_BOT_URL:-http://127.0.0.1:8711/v1}";
    private readonly SampleProject _sample = new();
    private SampleBotServer? _bot;

    public async ValueTask InitializeAsync()
    {
        var loaded = EvalProjectLoader.Load(_sample.Folder);
        var bot = SupportBot.Create(loaded.Project ?? throw new InvalidOperationException(string.Join(Environment.NewLine, loaded.Diagnostics)));
        _bot = await SampleBotServer.StartAsync(bot, cancellationToken: TestContext.Current.CancellationToken);

        // The copy points at this bot; no environment variable is set, so parallel tests see nothing of it.
        var recalYaml = _sample.PathOf("recal.yaml");
        var text = await File.ReadAllTextAsync(recalYaml, TestContext.Current.CancellationToken);
        text.Should().Contain(BotUrlVariable);
        await File.WriteAllTextAsync(recalYaml, text.Replace(BotUrlVariable, _bot.BaseUrl.ToString(), StringComparison.Ordinal), TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_bot is not null)
        {
            await _bot.DisposeAsync();
        }

        _sample.Dispose();
    }

    [Fact]
    public async Task The_gold_tuned_bot_beats_the_baseline_on_gold_but_its_traffic_weighted_estimate_is_lower()
    {
        // Given the sample with its twelve weeks of traffic ingested
        var p = _sample.Folder;
        var ingest = await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"));
        ingest.Code.Should().Be(0, ingest.Error);

        // When both bot versions run over gold, shadow and the sealed holdout (its date has passed) with the judges
        var key = _sample.PathOf("sample-holdout.key");
        var baseline = await CliRunner.RunAsync("run", "--project", p, "-t", "baseline", "--pool", "gold", "shadow", "holdout", "--key-file", key);
        var tuned = await CliRunner.RunAsync("run", "--project", p, "-t", "gold-tuned", "--pool", "gold", "shadow", "holdout", "--key-file", key);

        // Then both complete, every case called once and judged by three judges
        baseline.Code.Should().Be(0, baseline.Out + baseline.Error);
        tuned.Code.Should().Be(0, tuned.Out + tuned.Error);
        // (two holdout inputs repeat other cases' inputs word for word, so the response cache answers them)
        var calls = CallsPattern().Match(baseline.Out);
        calls.Success.Should().BeTrue(baseline.Out);
        (int.Parse(calls.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + int.Parse(calls.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)).Should().Be(898);
        baseline.Out.Should().Contain("support-answer@v1 × 3");
        var baselineId = RunId(baseline.Out);
        var tunedId = RunId(tuned.Out);
        baselineId.Should().EndWith("-baseline");
        tunedId.Should().EndWith("-gold-tuned");

        // And the reports show the gold score up and the traffic-weighted estimate down
        var baselineReport = await ReportAsync(baselineId);
        var tunedReport = await ReportAsync(tunedId);
        var baselineGold = GoldPassRate(baselineReport);
        var tunedGold = GoldPassRate(tunedReport);
        tunedGold.Should().BeGreaterThan(baselineGold);
        tunedGold.Should().BeGreaterThan(0.9, "the tuned bot was tuned until it aced gold");
        var baselineWeighted = Weighted(baselineReport);
        var tunedWeighted = Weighted(tunedReport);
        tunedWeighted.Should().BeLessThan(baselineWeighted);
        tunedReport.RootElement.GetProperty("run").GetProperty("status").GetString().Should().Be("completed");
        tunedReport.RootElement.GetProperty("judges").GetProperty("cases").GetInt32().Should().Be(898);
        baselineReport.Dispose();
        tunedReport.Dispose();

        // And a warm re-run makes no call, target or judge
        var warm = await CliRunner.RunAsync("run", "--project", p, "-t", "baseline", "--pool", "gold", "shadow", "holdout", "--key-file", key);
        warm.Code.Should().Be(0, warm.Out + warm.Error);
        warm.Out.Should().MatchRegex(@"calls\s+0 answered by a call, 898 from the cache, 0 retries").And.MatchRegex(@"support-answer@v1 × 3: 0 calls");
        var warmReport = await CliRunner.RunAsync("report", "--project", p, RunId(warm.Out));
        warmReport.Out.Should().Contain("0 answered by a call, 898 from the cache");

        // And the list shows the three runs, newest first
        var list = await CliRunner.RunAsync("report", "--project", p, "--list");
        list.Code.Should().Be(0);
        var listed = RunIdPattern().Matches(list.Out).Select(m => m.Value).ToList();
        listed.Should().Equal(RunId(warm.Out), tunedId, baselineId);
        list.Out.Should().Contain("completed").And.Contain("gold,shadow,holdout");

        // And the drift timeline puts the score next to its gaps: every run with its pools and gold − shadow gap, and
        // the two releases, gold ranking the tuned one higher while its users' mix-standardised thumbs-up rate is lower
        var driftJson = _sample.PathOf(".recal/timeline.json");
        var drift = await CliRunner.RunAsync("drift", "--project", p, "--over", "weekly", "--json", driftJson, "--html", _sample.PathOf(".recal/timeline.html"));
        drift.Code.Should().Be(1, drift.Error);
        drift.Out.Should().Contain("ALARM offline_online_releases");
        using var timeline = JsonDocument.Parse(File.ReadAllText(driftJson));
        var root = timeline.RootElement;
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        runs.Select(r => r.GetProperty("run_id").GetString()).Should().Equal(baselineId, tunedId, RunId(warm.Out));
        runs[1].GetProperty("release").GetString().Should().Be("support-bot-2026.07");
        runs[1].GetProperty("gold_shadow_gap").GetDouble().Should().BeApproximately(tunedGold - runs[1].GetProperty("shadow").GetDouble(), 1e-12).And.BeGreaterThan(0.3);
        var releases = root.GetProperty("releases").GetProperty("releases").EnumerateArray().ToList();
        releases.Select(r => r.GetProperty("release").GetString()).Should().Equal("support-bot-2026.05", "support-bot-2026.07");
        releases[1].GetProperty("gold_pass_rate").GetDouble().Should().BeGreaterThan(releases[0].GetProperty("gold_pass_rate").GetDouble());
        releases[1].GetProperty("online_rate").GetDouble().Should().BeLessThan(releases[0].GetProperty("online_lower").GetDouble());
        root.GetProperty("current").GetProperty("alarms").EnumerateArray().Select(a => a.GetProperty("instrument").GetString()).Should().Contain(["offline_online_releases", "coverage_drop"]);
        File.ReadAllText(_sample.PathOf(".recal/timeline.html")).Should().Contain("The score over time, next to its gaps").And.Contain("Offline vs online across releases").And.Contain("Embedding coverage");

        // And the diff of the two runs, by target name, pairs every case and shows the flips with their evidence
        var diffJson = _sample.PathOf("out/diff.json");
        var diff = await CliRunner.RunAsync("diff", "--project", p, baselineId, "gold-tuned", "--json", diffJson, "--markdown", _sample.PathOf("out/diff.md"), "--html", _sample.PathOf("out/diff.html"));
        diff.Code.Should().Be(0, diff.Out + diff.Error);
        diff.Out.Should().Contain("898 paired by id").And.Contain("Newly failing: to investigate").And.Contain("Judge dimensions");
        await ValidateAsync(diffJson, "run-diff");
        using (var diffDocument = JsonDocument.Parse(File.ReadAllText(diffJson)))
        {
            var pools = diffDocument.RootElement.GetProperty("segments").EnumerateArray().Where(s => s.GetProperty("dimension").GetString() == "pool")
                .ToDictionary(s => s.GetProperty("value").GetString()!, s => s.GetProperty("change"));
            pools["gold"].GetProperty("difference").GetDouble().Should().BeApproximately(tunedGold - baselineGold, 1e-12);
            pools["gold"].GetProperty("newly_failing").GetInt32().Should().Be(0);
            pools["shadow"].GetProperty("upper").GetDouble().Should().BeLessThan(0);
            var flip = diffDocument.RootElement.GetProperty("newly_failing")[0];
            flip.GetProperty("baseline_output").GetString().Should().NotBeNullOrEmpty();
            flip.GetProperty("candidate_evidence").GetString().Should().Contain("judges");
        }

        File.ReadAllText(_sample.PathOf("out/diff.md")).Should().Contain("| gold | 498 |");

        // And the gate fails, naming the holdout, shadow and online gates with their evidence, in every output
        var junit = _sample.PathOf("out/gate.xml");
        var gateJson = _sample.PathOf("out/gate.json");
        var gate = await CliRunner.RunAsync("gate", "--project", p, "--baseline", "baseline", "--candidate", "gold-tuned", "--explain", "--junit", junit, "--json", gateJson, "--markdown", _sample.PathOf("out/gate.md"), "--html", _sample.PathOf("out/gate.html"));
        gate.Code.Should().Be(1, gate.Out + gate.Error);
        gate.Out.Should().Contain("FAIL").And.Contain("holdout").And.Contain("shadow").And.Contain("online").And.Contain("tuned to gold");
        await ValidateAsync(gateJson, "gate-report");
        using (var gateDocument = JsonDocument.Parse(File.ReadAllText(gateJson)))
        {
            var gates = gateDocument.RootElement.GetProperty("gates").EnumerateArray().ToDictionary(g => g.GetProperty("gate").GetString()!, g => g);
            gates["holdout"].GetProperty("status").GetString().Should().Be("fail");
            gates["shadow"].GetProperty("status").GetString().Should().Be("fail");
            gates["online"].GetProperty("status").GetString().Should().Be("fail");
            gates["online"].GetProperty("evidence").GetString().Should().Contain("support-bot-2026.07").And.Contain("thumbs up");
            gates["online"].GetProperty("signals").EnumerateArray().Select(x => x.GetProperty("signal").GetString()).Should().Equal("thumbs up", "escalation", "continuation", "completion");
            gates["gold segments"].GetProperty("status").GetString().Should().Be("pass");
            gateDocument.RootElement.GetProperty("passed").GetBoolean().Should().BeFalse();
        }

        var schemas = new System.Xml.Schema.XmlSchemaSet();
        schemas.Add(null, Path.Combine(_sample.RepositoryRoot, "docs", "schemas", "junit.xsd"));
        var junitDocument = System.Xml.Linq.XDocument.Load(junit);
        var problems = new List<string>();
        System.Xml.Schema.Extensions.Validate(junitDocument, schemas, (_, e) => problems.Add(e.Message));
        problems.Should().BeEmpty("the JUnit file must match docs/schemas/junit.xsd");
        junitDocument.Descendants("testcase").Where(t => t.Element("failure") is not null).Select(t => t.Attribute("name")!.Value).Should().Contain(["holdout", "shadow", "online"]);
        File.ReadAllText(_sample.PathOf("out/gate.md")).Should().Contain("| holdout | fail |");

        // And docs/ci.md's recipe, run line by line on the sample (warm now: its runs make no call), ends in the same
        // decision and leaves the files it promises; the GitHub workflow runs the same commands
        var ci = File.ReadAllText(Path.Combine(_sample.RepositoryRoot, "docs", "ci.md"));
        var recipe = RecipeLines(ci);
        recipe.Should().HaveCountGreaterThan(5);
        var variables = new Dictionary<string, string> { ["TRAFFIC"] = _sample.PathOf("traffic/traffic.jsonl.gz"), ["BASELINE"] = "baseline", ["CANDIDATE"] = "gold-tuned", ["HOLDOUT_KEY"] = key };
        var codes = new List<int>();
        foreach (var line in recipe)
        {
            var words = ShellWords(line, variables).Select(w => w is "diff.md" or "diff.json" or "gate.xml" or "gate.md" or "gate.json" ? _sample.PathOf("ci/" + w) : w).ToList();
            var result = await CliRunner.RunAsync([words[1], "--project", p, .. words.Skip(2)]);
            codes.Add(result.Code);
            if (words[1] != "gate")
            {
                result.Code.Should().Be(0, $"{line}\n{result.Out}{result.Error}");
            }
        }

        codes[^1].Should().Be(1, "the recipe's gate decides against the gold-tuned candidate");
        foreach (var file in new[] { "diff.md", "diff.json", "gate.xml", "gate.md", "gate.json" })
        {
            File.Exists(_sample.PathOf("ci/" + file)).Should().BeTrue(file);
        }

        var workflow = ci[ci.IndexOf("```yaml", StringComparison.Ordinal)..];
        var steps = StepPattern().Matches(workflow).Select(m => m.Groups[1].Value.Trim()).Where(l => l.StartsWith("recal ", StringComparison.Ordinal)).ToList();
        steps.Select(l => l.Replace("\"$GITHUB_STEP_SUMMARY\"", "gate.md", StringComparison.Ordinal)).Should().Equal(recipe);

        // And a regrade re-scores the tuned run's stored outputs with the targets unreachable: no target is called
        // (a call would error), the judges' answers come from the cache, and the verdicts are the same
        var recalYaml = _sample.PathOf("recal.yaml");
        var yaml = await File.ReadAllTextAsync(recalYaml, TestContext.Current.CancellationToken);
        var botLine = $"base_url: {_bot!.BaseUrl}";
        var first = yaml.IndexOf(botLine, StringComparison.Ordinal);
        var second = yaml.IndexOf(botLine, first + 1, StringComparison.Ordinal);
        var judgesAt = yaml.IndexOf("judge:", StringComparison.Ordinal);
        second.Should().BeLessThan(judgesAt, "the two targets come before the judges");
        yaml = string.Concat(yaml.AsSpan(0, first), "base_url: http://127.0.0.1:9/v1", yaml.AsSpan(first + botLine.Length));
        second = yaml.IndexOf(botLine, StringComparison.Ordinal);
        yaml = string.Concat(yaml.AsSpan(0, second), "base_url: http://127.0.0.1:9/v1", yaml.AsSpan(second + botLine.Length));
        await File.WriteAllTextAsync(recalYaml, yaml, TestContext.Current.CancellationToken);
        var regrade = await CliRunner.RunAsync("regrade", "--project", p, tunedId, "--key-file", key);
        regrade.Code.Should().Be(0, regrade.Out + regrade.Error);
        regrade.Out.Should().MatchRegex(@"errors\s+0").And.MatchRegex(@"calls\s+0 answered by a call, 0 from the cache").And.Contain("support-answer@v1 × 3: 0 calls")
            .And.Contain("0 now failing, 0 now passing, 898 unchanged");
        var regradeId = RunId(regrade.Out[regrade.Out.IndexOf("Run ", StringComparison.Ordinal)..]);
        regradeId.Should().NotBe(tunedId);
        var regradeJson = _sample.PathOf("out/regrade.json");
        (await CliRunner.RunAsync("report", "--project", p, regradeId, "--json", regradeJson)).Code.Should().Be(0);
        using (var regradeReport = JsonDocument.Parse(File.ReadAllText(regradeJson)))
        {
            regradeReport.RootElement.GetProperty("run").GetProperty("target_config").GetProperty("regrade_of").GetString().Should().Be(tunedId);
        }

        // And under a rubric that passes at 3 instead of 4 the judges are asked again and verdicts move one way only
        var lenient = _sample.PathOf("rubrics/lenient.yaml");
        await File.WriteAllTextAsync(lenient, (await File.ReadAllTextAsync(_sample.PathOf("rubrics/support-answer.yaml"), TestContext.Current.CancellationToken)).Replace("version: 1", "version: 2", StringComparison.Ordinal).Replace("all_at_least: 4", "all_at_least: 3", StringComparison.Ordinal), TestContext.Current.CancellationToken);
        var lenientRun = await CliRunner.RunAsync("regrade", "--project", p, tunedId, "--key-file", key, "--rubric", lenient);
        lenientRun.Code.Should().Be(0, lenientRun.Out + lenientRun.Error);
        lenientRun.Out.Should().Contain("support-answer@v2").And.MatchRegex(@"calls\s+0 answered by a call").And.MatchRegex(@"Verdicts moved by the regrade: 0 now failing, [1-9][0-9]* now passing");

        // And each run report's headline boxes are coloured line by line by check's rules: the tuned bot's gaps to
        // the holdout and shadow are red, the baseline's (noise) green
        var baselineHtml = File.ReadAllText(_sample.PathOf($"out/{baselineId}.html"));
        var tunedHtml = File.ReadAllText(_sample.PathOf($"out/{tunedId}.html"));
        Tone(tunedHtml, "gold vs holdout").Should().Be("bad");
        Tone(tunedHtml, "gold vs shadow").Should().Be("bad");
        Tone(tunedHtml, "traffic-weighted").Should().Be("bad");
        Tone(baselineHtml, "gold vs holdout").Should().Be("good");
        Tone(baselineHtml, "errors").Should().Be("good");

        // And every page the sample writes fits a phone's and a laptop's width in Chromium (last: skipped without it)
        Tone(File.ReadAllText(_sample.PathOf("out/gate.html")), "decision").Should().Be("bad");
        var pages = new[] { ".recal/timeline.html", "out/diff.html", "out/gate.html", $"out/{baselineId}.html", $"out/{tunedId}.html" }
            .Select(f => (f, File.ReadAllText(_sample.PathOf(f)))).ToList();
        (await Recal.Testing.PageLayout.ProblemsAsync(pages, TestContext.Current.CancellationToken)).Should().BeEmpty();
    }

    /// <summary>The tone of a run report headline box, by its label.</summary>
    private static string Tone(string html, string label) =>
        Regex.Match(html, $"data-tone=\"([a-z]+)\"><strong>{Regex.Escape(label)}</strong>") is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException($"no headline '{label}'");

    /// <summary>The recal lines of the block after docs/ci.md's <c>ci-recipe</c> marker.</summary>
    private static List<string> RecipeLines(string markdown)
    {
        var start = markdown.IndexOf("```sh", markdown.IndexOf("<!-- ci-recipe", StringComparison.Ordinal), StringComparison.Ordinal);
        var end = markdown.IndexOf("```", start + 5, StringComparison.Ordinal);
        return [.. markdown[(start + 5)..end].Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("recal ", StringComparison.Ordinal))];
    }

    /// <summary>A shell line's words, with "$VAR" replaced (the recipe quotes every variable and nothing else).</summary>
    private static List<string> ShellWords(string line, IReadOnlyDictionary<string, string> variables) =>
        [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w.StartsWith("\"$", StringComparison.Ordinal) && w.EndsWith('"') ? variables[w[2..^1]] : w)];

    private async Task ValidateAsync(string file, string schemaName)
    {
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(_sample.RepositoryRoot, "docs", "schemas", $"{schemaName}.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).Should().BeEmpty($"the file must match docs/schemas/{schemaName}.schema.json");
    }

    private static double GoldPassRate(JsonDocument report) =>
        report.RootElement.GetProperty("segments").EnumerateArray()
            .Single(s => s.GetProperty("dimension").GetString() == "pool" && s.GetProperty("value").GetString() == "gold")
            .GetProperty("pass_rate").GetDouble();

    private static double Weighted(JsonDocument report) =>
        report.RootElement.GetProperty("weighted").GetProperty("estimate").GetProperty("estimate").GetDouble();

    private static string RunId(string output) => RunIdPattern().Match(output) is { Success: true } match ? match.Value : throw new InvalidOperationException("no run id in:\n" + output);

    [GeneratedRegex(@"^\s*- run: (.+)$", RegexOptions.Multiline)]
    private static partial Regex StepPattern();

    [GeneratedRegex(@"calls\s+(\d+) answered by a call, (\d+) from the cache")]
    private static partial Regex CallsPattern();

    [GeneratedRegex(@"\d{8}-\d{6}-[a-z-]+")]
    private static partial Regex RunIdPattern();

    private async Task<JsonDocument> ReportAsync(string runId)
    {
        var file = _sample.PathOf($"out/{runId}.json");
        var report = await CliRunner.RunAsync("report", "--project", _sample.Folder, runId, "--json", file, "--html", Path.ChangeExtension(file, ".html"));
        report.Code.Should().Be(0, report.Error);
        var text = await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken);
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(_sample.RepositoryRoot, "docs", "schemas", "run-report.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(text).Should().BeEmpty("the report must match docs/schemas/run-report.schema.json");
        return JsonDocument.Parse(text);
    }
}
