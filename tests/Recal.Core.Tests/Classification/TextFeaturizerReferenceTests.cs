using FluentAssertions;
using Recal.Classification;
using Xunit;

namespace Recal.Core.Tests.Classification;

/// <summary>
/// The featuriser's fast paths give exactly the features of the plain definition (char.IsLetterOrDigit words,
/// char.ToLowerInvariant, FNV-1a grams), on every CLINC150 text and on non-ASCII text. The classifier reads nothing
/// else of a text, so equal features give bit-identical scores and intents.
/// </summary>
public sealed class TextFeaturizerReferenceTests
{
    [Fact]
    public void Features_equal_the_plain_definition_on_every_clinc150_text()
    {
        var data = Clinc150.Data;
        var texts = data.Train.Concat(data.Test).Select(e => e.Text).ToList();
        texts.Count.Should().BeGreaterThan(10_000);

        foreach (var text in texts)
        {
            Same(text);
        }
    }

    [Theory]
    [InlineData("Überweisung an İSTANBUL — ÇAĞRI merkezi, straße ΣΊΣΥΦΟΣ 42")]
    [InlineData("ＡＢＣ１２３ full-width, ǅemal, ﬁle, Ǆ")]
    [InlineData("")]
    [InlineData("   ,,, !!")]
    [InlineData("a")]
    [InlineData("MiXeD CaSe 0123456789 zZ aA @[`{")]
    public void Features_equal_the_plain_definition_on_non_ascii_and_edge_texts(string text) => Same(text);

    private static void Same(string text)
    {
        var features = new ulong[8];
        var counts = new int[8];
        var n = TextFeaturizer.Featurize(text, ref features, ref counts);
        var (expected, expectedCounts) = Reference(text);
        features.AsSpan(0, n).ToArray().Should().Equal(expected, text);
        counts.AsSpan(0, n).ToArray().Should().Equal(expectedCounts, text);
    }

    // The featuriser as first written: Unicode character tests and lowering on every character.
    private static (ulong[] Features, int[] Counts) Reference(ReadOnlySpan<char> text)
    {
        const ulong offset = 14695981039346656037UL, prime = 1099511628211UL;
        if (text.Length > TextFeaturizer.MaxChars)
        {
            text = text[..TextFeaturizer.MaxChars];
        }

        var raw = new List<ulong>();
        ulong previous = 0;
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            var word = new List<char> { '<' };
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                word.Add(char.ToLowerInvariant(text[i++]));
            }

            if (word.Count == 1)
            {
                break;
            }

            word.Add('>');
            var h = offset ^ 0x9E3779B97F4A7C15UL;
            foreach (var c in word)
            {
                h = (h ^ c) * prime;
            }

            raw.Add(h);
            if (previous != 0)
            {
                var a = previous ^ 0xC2B2AE3D27D4EB4FUL;
                var m = (a ^ (h + 0x9E3779B97F4A7C15UL + (a << 6) + (a >> 2))) * prime;
                raw.Add(m ^ (m >> 29));
            }

            previous = h;
            for (var start = 0; start + 3 <= word.Count; start++)
            {
                var g = offset;
                for (var k = 0; k < 4 && start + k < word.Count; k++)
                {
                    g = (g ^ word[start + k]) * prime;
                    if (k + 1 >= 3)
                    {
                        raw.Add(g ^ ((ulong)(k + 1) << 56));
                    }
                }
            }
        }

        var groups = raw.Order().GroupBy(x => x).ToList();
        return ([.. groups.Select(g => g.Key)], [.. groups.Select(g => g.Count())]);
    }
}
