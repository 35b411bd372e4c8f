using System.Diagnostics;
using FluentAssertions;
using Recal.Lifecycle;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>The set's lifecycle on a copy of the sample: sample, label, seal, run the holdout, rotate, history.</summary>
public sealed class LifecycleEndToEndTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    private Task<(int Code, string Out, string Error)> Recal(params string[] args) => CliRunner.RunAsync([.. args, "--project", _sample.Folder]);

    /// <summary>Fills reference_high of every exported row (intent left as drafted unless unknown).</summary>
    private static void LabelAll(string csvIn, string csvOut, int skip = 0)
    {
        var rows = Text.Csv.Read(new StringReader(File.ReadAllText(csvIn))).Select(r => r.Fields.ToList()).ToList();
        var header = rows[0];
        var labelled = rows.Skip(1).Select((row, i) =>
        {
            if (i >= skip)
            {
                row[header.IndexOf("reference_high")] = $"Here is how {row[header.IndexOf("intent")].Replace('_', ' ')} works.";
                if (row[header.IndexOf("intent")] == "unknown")
                {
                    row[header.IndexOf("intent")] = "out_of_scope";
                }
            }

            return row;
        });
        File.WriteAllLines(csvOut, [Text.Csv.Line(header), .. labelled.Select(r => Text.Csv.Line(r))]);
    }

    [Fact]
    public async Task A_holdout_is_drawn_labelled_sealed_refused_early_opened_with_the_key_and_rotated_with_every_change_recorded()
    {
        // Given the sample's traffic in the store, and an owner named in the policy
        (await Recal("ingest", _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);
        File.AppendAllText(_sample.PathOf("policy.yaml"), "\nownership: {owner: ana@example.com, since: 2026-11-01, rotation: 90d}\n");
        (await Recal("status")).Out.Should().Contain("Owner: ana@example.com since 2026-11-01; hand-over due 2027-01-30.");

        // And the sample's own holdout, sealed at the end of week 4 until a rotation later, opened with its demo key
        var unseal = await Recal("holdout", "unseal", "--key-file", _sample.PathOf("sample-holdout.key"));
        unseal.Code.Should().Be(0, unseal.Error);
        unseal.Out.Should().Contain("Opened 100 holdout case(s), commitment verified");

        // When more holdout cases are drawn as drafts, exported, labelled (two rows left empty) and imported
        var sample = await Recal("sample", "--pool", "holdout", "--size", "60", "--seed", "4");
        sample.Code.Should().Be(0, sample.Error);
        sample.Out.Should().Contain("drafts written to drafts/holdout-20260823-s4.jsonl");
        (await Recal("sample", "--pool", "holdout", "--size", "60", "--seed", "4")).Code.Should().Be(2, "the same draw is never written twice");
        (await Recal("label", "export", "--pool", "holdout", "--csv", _sample.PathOf("out.csv"))).Code.Should().Be(0);
        LabelAll(_sample.PathOf("out.csv"), _sample.PathOf("in.csv"), skip: 2);
        var import = await Recal("label", "import", _sample.PathOf("in.csv"));
        import.Code.Should().Be(0, import.Error + import.Out);
        import.Out.Should().MatchRegex(@"Imported \d+; 2 row\(s\) without a reference stay drafts; 0 row problem");
        var holdoutCases = File.ReadAllLines(_sample.PathOf("cases/holdout.jsonl")).Length;
        holdoutCases.Should().BeGreaterThan(200);
        File.ReadAllLines(_sample.PathOf("drafts/holdout-20260823-s4.jsonl")).Should().HaveCount(2);

        // And sealed with a new key
        var key = _sample.PathOf("../" + Path.GetFileName(_sample.Folder) + ".key");
        (await Recal("holdout", "new-key", key)).Code.Should().Be(0);
        var seal = await Recal("holdout", "seal", "--key-file", key, "--until", "2030-01-01");
        seal.Code.Should().Be(0, seal.Error);
        File.Exists(_sample.PathOf("cases/holdout.jsonl")).Should().BeTrue();
        File.ReadAllText(_sample.PathOf("cases/holdout.jsonl")).Should().BeEmpty("no plaintext holdout case stays in the case files");
        (await Recal("validate")).Out.Should().Contain($"and {holdoutCases} sealed holdout cases (until 2030-01-01)");

        // Then the holdout is refused before its date, refused with a wrong key, and opened with the flag
        var refused = await Recal("run", "--target", "production", "--pool", "holdout", "--key-file", key, "--no-judge");
        refused.Code.Should().Be(2);
        refused.Error.Should().Contain("sealed until 2030-01-01").And.Contain("--unseal");
        var wrongKey = _sample.PathOf("../" + Path.GetFileName(_sample.Folder) + ".other.key");
        (await Recal("holdout", "new-key", wrongKey)).Code.Should().Be(0);
        (await Recal("run", "--target", "production", "--pool", "holdout", "--key-file", wrongKey, "--unseal", "--no-judge")).Error.Should().Contain("not the one the holdout was sealed with");
        var opened = await Recal("run", "--target", "production", "--pool", "holdout", "--key-file", key, "--unseal", "--no-judge");
        opened.Code.Should().Be(0, opened.Error);
        opened.Out.Should().Contain($"cases       {holdoutCases}");
        (await Recal("holdout", "verify", "--key-file", key)).Out.Should().Contain("Intact");

        // And a flipped byte in the ciphertext is detected
        var sealedPath = _sample.PathOf("holdout/cases.sealed");
        var bytes = File.ReadAllBytes(sealedPath);
        bytes[10] ^= 0x40;
        File.WriteAllBytes(sealedPath, bytes);
        var tampered = await Recal("holdout", "verify", "--key-file", key);
        tampered.Code.Should().Be(1);
        tampered.Error.Should().Contain("changed after sealing");
        bytes[10] ^= 0x40;
        File.WriteAllBytes(sealedPath, bytes);

        // When the set rotates (early, with the key): a dry run changes nothing, --yes applies
        var before = Directory.EnumerateFiles(_sample.PathOf("cases")).ToDictionary(f => f, File.ReadAllText);
        (await Recal("rotate", "--key-file", key, "--unseal", "--dry-run")).Out.Should().Contain("Dry run: nothing was changed.");
        Directory.EnumerateFiles(_sample.PathOf("cases")).ToDictionary(f => f, File.ReadAllText).Should().BeEquivalentTo(before);
        var rotate = await Recal("rotate", "--key-file", key, "--unseal", "--yes", "--graduate", "0.5");
        rotate.Code.Should().Be(0, rotate.Error);

        // Then half the holdout is gold, half retired, the seal is spent, and new holdout drafts wait for labels
        var gold = File.ReadAllLines(_sample.PathOf("cases/gold.jsonl"));
        gold.Count(l => l.Contains("\"id\":\"holdout-", StringComparison.Ordinal)).Should().Be((int)Math.Round(holdoutCases * 0.5));
        File.ReadAllLines(_sample.PathOf("cases/retired.jsonl")).Should().HaveCount(holdoutCases - (int)Math.Round(holdoutCases * 0.5));
        File.Exists(_sample.PathOf("holdout/seal.json")).Should().BeFalse();
        Directory.EnumerateFiles(_sample.PathOf("drafts"), "holdout-*-s0.jsonl").Should().ContainSingle();

        // And the history lists every change with the suite versions chained
        var (entries, problems) = Changelog.Read(_sample.Folder);
        problems.Should().BeEmpty();
        entries.Select(e => e.Rule).Should().Equal("unseal", "labelling", "seal", "rotation");
        entries.Should().OnlyContain(e => e.Owner == "ana@example.com", "the changelog records who owned the set at each change");
        entries[1].SuiteBefore.Should().Be(entries[0].SuiteAfter);
        entries[2].SuiteBefore.Should().Be(entries[1].SuiteAfter);
        entries[3].SuiteBefore.Should().Be(entries[2].SuiteAfter);
        entries[2].Moves.Should().HaveCount(holdoutCases).And.OnlyContain(m => m.From == "holdout" && m.To == "sealed");
        var history = await Recal("history");
        history.Out.Should().Contain("label import").And.Contain("holdout seal").And.Contain("rotate").And.Contain(entries[3].SuiteAfter);
        File.Delete(key);
        File.Delete(wrongKey);
    }

    [Fact]
    public async Task A_past_suite_version_is_rebuilt_from_git_and_the_changelog()
    {
        // Given the project under git, with a commit after a change to the set
        if (!Git("init", "-q") || !Git("add", "-A") || !Git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "sample"))
        {
            Assert.Skip("git is not available");
        }

        (await Recal("ingest", _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);
        (await Recal("sample", "--pool", "shadow", "--size", "10", "--seed", "1")).Code.Should().Be(0);
        (await Recal("label", "export", "--csv", _sample.PathOf("out.csv"))).Code.Should().Be(0);
        LabelAll(_sample.PathOf("out.csv"), _sample.PathOf("in.csv"));
        (await Recal("label", "import", _sample.PathOf("in.csv"))).Code.Should().Be(0);
        var version = Changelog.Read(_sample.Folder).Entries[^1].SuiteAfter;
        Git("add", "-A").Should().BeTrue();
        Git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "labelled shadow").Should().BeTrue();

        // When the set changes again (cases deleted by hand) and the old version is rebuilt
        File.Delete(_sample.PathOf("cases/shadow.jsonl"));
        var output = Path.Combine(Path.GetTempPath(), "recal-rebuild-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var rebuild = await Recal("history", "--rebuild", version, "--out", output);

            // Then the rebuilt project hashes to the recorded version
            rebuild.Code.Should().Be(0, rebuild.Error);
            rebuild.Out.Should().Contain("its hash checks out");
            File.Exists(Path.Combine(output, "cases", "shadow.jsonl")).Should().BeTrue();
            (await Recal("history", "--rebuild", "000000000000", "--out", output + "-none")).Error.Should().Contain("no commit");
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    private bool Git(params string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo("git") { WorkingDirectory = _sample.Folder, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
