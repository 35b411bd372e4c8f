using System.Text.Json;
using FluentAssertions;
using Recal.Lifecycle;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Lifecycle;

public sealed class HoldoutSealTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Until = Now.AddDays(84);

    private static readonly (string Id, string Intent, string Line)[] Cases =
    [
        ("h-2", "balance", """{"id":"h-2","input":"how much do i have","intent":"balance"}"""),
        ("h-1", "freeze", """{"id":"h-1","input":"freeze my card","intent":"freeze"}"""),
    ];

    private static byte[] Key() => Convert.FromBase64String(HoldoutSeal.NewKey());

    [Fact]
    public void A_sealed_holdout_opens_with_its_key_after_its_date_and_matches_the_commitment()
    {
        var key = Key();
        var (record, ciphertext) = HoldoutSeal.Seal(Cases, key, Now, Until);

        var lines = HoldoutSeal.Unseal(record, ciphertext, key, Until.AddSeconds(1), early: false);

        lines.Should().Equal(Cases[1].Line, Cases[0].Line);
        record.Cases.Should().Be(2);
        record.Intents.Should().BeEquivalentTo(new Dictionary<string, int> { ["balance"] = 1, ["freeze"] = 1 });
        record.Commitment.Should().MatchRegex("^[0-9a-f]{64}$");
        System.Text.Encoding.UTF8.GetString(ciphertext).Should().NotContain("freeze my card");
    }

    [Fact]
    public void Opening_before_the_sealed_until_date_is_refused_without_the_explicit_flag()
    {
        var key = Key();
        var (record, ciphertext) = HoldoutSeal.Seal(Cases, key, Now, Until);

        var act = () => HoldoutSeal.Unseal(record, ciphertext, key, Now.AddDays(1), early: false);

        act.Should().Throw<HoldoutSealException>().WithMessage("*sealed until 2027-02-21*--unseal*");
        HoldoutSeal.Unseal(record, ciphertext, key, Now.AddDays(1), early: true).Should().HaveCount(2);
    }

    [Fact]
    public void A_wrong_key_is_told_apart_from_tampering()
    {
        var (record, ciphertext) = HoldoutSeal.Seal(Cases, Key(), Now, Until);

        var act = () => HoldoutSeal.Unseal(record, ciphertext, Key(), Until, early: false);

        act.Should().Throw<HoldoutSealException>().WithMessage("*not the one the holdout was sealed with*");
    }

    [Fact]
    public void A_changed_ciphertext_or_seal_record_fails_authentication()
    {
        var key = Key();
        var (record, ciphertext) = HoldoutSeal.Seal(Cases, key, Now, Until);
        var flipped = (byte[])ciphertext.Clone();
        flipped[5] ^= 1;

        var tamperedCiphertext = () => HoldoutSeal.Unseal(record, flipped, key, Until, early: false);
        var movedDate = () => HoldoutSeal.Unseal(record with { SealedUntil = Now }, ciphertext, key, Until, early: false);
        var changedCounts = () => HoldoutSeal.Unseal(record with { Intents = new Dictionary<string, int> { ["balance"] = 2 } }, ciphertext, key, Until, early: false);

        tamperedCiphertext.Should().Throw<HoldoutSealException>().WithMessage("*changed after sealing*");
        movedDate.Should().Throw<HoldoutSealException>().WithMessage("*changed after sealing*");
        changedCounts.Should().Throw<HoldoutSealException>().WithMessage("*changed after sealing*");
    }

    [Fact]
    public void A_different_holdout_sealed_under_the_same_key_does_not_pass_for_the_recorded_one()
    {
        // Given the record of one holdout, and another holdout sealed with the same key
        var key = Key();
        var (record, _) = HoldoutSeal.Seal(Cases, key, Now, Until);
        var (other, otherCiphertext) = HoldoutSeal.Seal([Cases[0]], key, Now, Until);

        // When the other ciphertext is put next to the first record (with the other's nonce and tag)
        var swapped = () => HoldoutSeal.Unseal(record with { Nonce = other.Nonce, Tag = other.Tag }, otherCiphertext, key, Until, early: false);

        // Then it is caught
        swapped.Should().Throw<HoldoutSealException>();
    }

    [Fact]
    public void The_record_round_trips_through_the_project_folder()
    {
        var root = Directory.CreateTempSubdirectory("recal-seal-").FullName;
        try
        {
            var key = Key();
            var (record, ciphertext) = HoldoutSeal.Seal(Cases, key, Now, Until);
            using (var workspace = ProjectWorkspace.Open(root, "test"))
            {
                HoldoutSeal.Write(workspace, record, ciphertext);
            }

            HoldoutSeal.ReadRecord(root).Should().BeEquivalentTo(record);
            HoldoutSeal.Open(root, key, Until, early: false).Should().HaveCount(2);
            JsonDocument.Parse(File.ReadAllText(HoldoutSeal.RecordPath(root))).RootElement.GetProperty("sealed_until").GetString().Should().StartWith("2027-02-21");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Keys_come_from_a_key_file_or_the_environment_and_bad_keys_are_named_not_shown()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "not base64!\n");
            HoldoutSeal.ResolveKey(file).Error.Should().Contain("not base64").And.NotContain("not base64!");
            File.WriteAllText(file, Convert.ToBase64String(new byte[16]));
            HoldoutSeal.ResolveKey(file).Error.Should().Contain("32 bytes");
            var key = HoldoutSeal.NewKey();
            File.WriteAllText(file, key + "\n");
            HoldoutSeal.ResolveKey(file).Key.Should().Equal(Convert.FromBase64String(key));
            HoldoutSeal.ResolveKey(file + ".missing").Error.Should().Contain("does not exist");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Both_holdout_files_of_another_project_sealed_under_the_same_key_do_not_verify()
    {
        // Given a project's holdout and another project's, sealed under one key
        using var folder = new TempFolder();
        var key = Key();
        var (ours, _) = HoldoutSeal.Seal(Cases, key, Now, Until, project: "support");
        var (theirs, theirCiphertext) = HoldoutSeal.Seal([Cases[0]], key, Now, Until, project: "other");

        // When both of our files are replaced by theirs, or their record is relabelled as ours
        using (var workspace = ProjectWorkspace.Open(folder.Path, "test"))
        {
            HoldoutSeal.Write(workspace, theirs, theirCiphertext);
        }

        var swapped = () => HoldoutSeal.Open(folder.Path, key, Until, early: false, "support");
        var relabelled = () => HoldoutSeal.Unseal(theirs with { Project = "support" }, theirCiphertext, key, Until, early: false);

        // Then neither verifies
        ours.FormatVersion.Should().Be(2);
        swapped.Should().Throw<HoldoutSealException>().WithMessage("*sealed for the project 'other'*replaced*");
        relabelled.Should().Throw<HoldoutSealException>().WithMessage("*authentication failed*");
    }

    [Fact]
    public void Both_holdout_files_swapped_for_another_seal_of_the_same_project_disagree_with_the_changelog()
    {
        // Given a seal recorded in the changelog, and an older seal of the same project under the same key
        using var folder = new TempFolder();
        var key = Key();
        var (current, _) = HoldoutSeal.Seal(Cases, key, Now, Until, project: "support");
        var (older, olderCiphertext) = HoldoutSeal.Seal([Cases[1]], key, Now.AddDays(-90), Now, project: "support");
        using var workspace = ProjectWorkspace.Open(folder.Path, "test");
        Changelog.Append(workspace, new ChangeEntry(Now, "holdout seal", "seal", 1, "a", "b", $"2 holdout case(s) sealed, {HoldoutSeal.CommitmentNote(current)}", []));

        // When both files are replaced by the older seal's
        HoldoutSeal.Write(workspace, older, olderCiphertext);
        var act = () => HoldoutSeal.Open(folder.Path, key, Until, early: false, "support");

        // Then it does not verify, naming both commitments
        act.Should().Throw<HoldoutSealException>().WithMessage($"*replaced*{current.Commitment[..16]}*{older.Commitment[..16]}*");
    }

    [Fact]
    public void A_key_file_is_created_for_its_owner_only_never_overwritten_and_needs_its_folder()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "holdout.key");

        HoldoutSeal.CreateKeyFile(path).Should().BeNull();
        HoldoutSeal.CreateKeyFile(path).Should().Contain("never overwritten");
        HoldoutSeal.CreateKeyFile(Path.Combine(folder.Path, "missing", "k")).Should().Contain("does not exist");
        HoldoutSeal.ResolveKey(path).Key.Should().HaveCount(HoldoutSeal.KeyBytes);
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            HoldoutSeal.KeyFileWarning(path).Should().BeNull();
            File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
            HoldoutSeal.KeyFileWarning(path).Should().Contain("mode 0666").And.Contain("chmod 600");
        }
    }
}
