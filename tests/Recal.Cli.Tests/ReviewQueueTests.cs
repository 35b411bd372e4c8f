using FluentAssertions;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Workflows;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>The review queue's labelling on a copy of the sample: validated like an import, journalled, and never overwriting another reviewer.</summary>
public sealed class ReviewQueueTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public void A_draft_labelled_in_the_form_becomes_a_case_and_a_second_reviewer_of_it_is_told_and_saves_nothing()
    {
        // Given a draft of the sample's first intent
        var project = EvalProjectLoader.Load(_sample.Folder).Project!;
        var intent = project.Taxonomy.Intents[0].Name;
        var draft = new Draft("review-0001", "how do i check my balance <b>now</b>", null, intent, "classifier", 0.81, new Dictionary<string, string>(), "gold", intent, "t-review-1",
            new DraftContext(Now.AddDays(-1), "Open the app.", "bot", 1, null, false, true, null));
        var draftFile = Path.Combine(_sample.Folder, DraftFile.Folder, "review.jsonl");
        using (var workspace = ProjectWorkspace.Open(_sample.Folder, "test"))
        {
            DraftFile.Write(workspace, draftFile, [draft]);
        }

        var version = ReviewUseCase.VersionOf(draft);
        ReviewResult Label(ReviewLabel label)
        {
            using var workspace = ProjectWorkspace.Open(_sample.Folder, "review");
            return ReviewUseCase.Label(label, workspace, Now);
        }

        var good = new ReviewLabel(draft.Id, version, intent, "Your balance is on the app's home screen.", null, "balance", "easy", null);

        // When the form comes with a stale version, without a reference, and with an intent the taxonomy lacks
        var stale = Label(good with { Version = "0000000000000000" });
        var empty = Label(good with { ReferenceHigh = "  " });
        var badIntent = Label(good with { Intent = "chek_balance" });

        // Then nothing is written, and each says why, located at the form and the draft
        stale.Outcome.Should().Be(ReviewOutcome.Conflict);
        stale.Message.Should().Contain("changed since the form was opened");
        empty.Outcome.Should().Be(ReviewOutcome.Invalid);
        empty.Diagnostics.Should().ContainSingle(d => d.Code == "RC1604");
        badIntent.Outcome.Should().Be(ReviewOutcome.Invalid);
        badIntent.Diagnostics.Should().Contain(d => d.Code == "RC1203" && d.Location!.File == ReviewUseCase.FormName && d.Location.CaseId == draft.Id);
        File.Exists(draftFile).Should().BeTrue();
        EvalProjectLoader.Load(_sample.Folder).Project!.Cases.Should().NotContain(c => c.Id == draft.Id);

        // When it is labelled, and a second reviewer who opened the same form saves theirs
        var first = Label(good);
        var second = Label(good with { ReferenceHigh = "Something else entirely." });

        // Then the first made the case (its pool's file, the draft gone, the change recorded with the suite it led to)
        first.Outcome.Should().Be(ReviewOutcome.Labelled, string.Join("; ", first.Diagnostics.Select(d => d.Message)));
        var after = EvalProjectLoader.Load(_sample.Folder).Project!;
        var made = after.Cases.Single(c => c.Id == draft.Id);
        (made.Pool, made.Intent, made.References[0].Text, made.Difficulty).Should().Be((Pool.Gold, intent, "Your balance is on the app's home screen.", Difficulty.Easy));
        File.Exists(draftFile).Should().BeFalse();
        first.Entry!.SuiteAfter.Should().Be(ProjectHasher.SuiteVersion(after));
        Changelog.Read(_sample.Folder).Entries[^1].Summary.Should().Contain("from the review form");
        ProjectWorkspace.HasInterruptedChange(_sample.Folder).Should().BeFalse();
        Directory.EnumerateFiles(Path.Combine(_sample.Folder, ".recal"), "review-*.csv").Should().BeEmpty();

        // And the second is told the draft was labelled meanwhile, and the case keeps the first reviewer's answer
        second.Outcome.Should().Be(ReviewOutcome.Conflict);
        second.Message.Should().Contain("labelled by someone else");
        EvalProjectLoader.Load(_sample.Folder).Project!.Cases.Single(c => c.Id == draft.Id).References[0].Text.Should().Be("Your balance is on the app's home screen.");
    }
}
