namespace Recal.Embeddings;

/// <summary>Which kind of n-gram a feature is: the embedder weighs words and characters separately.</summary>
internal enum NgramKind
{
    Word,
    Bigram,
    Character,
}

/// <summary>
/// The built-in embedder's features: lower-cased word unigrams and bigrams, and character 3- and 4-grams of each
/// word padded with boundary marks (<c>&lt;card&gt;</c>), as 64-bit hashes (FNV-1a with a per-kind seed, finished
/// with the SplitMix64 mixer), stable across processes and machines.
/// </summary>
/// <remarks>
/// Deliberately separate from the classifier's featurizer: embeddings are cached under the embedder's id, so their
/// features may change only with <see cref="HashedEmbeddingGenerator.FormatVersion"/>, never as a side effect of a
/// classifier change.
/// </remarks>
internal static class NgramFeatures
{
    /// <summary>Texts longer than this are cut: what a query is about shows early, and a 10 MB input must not stall a run.</summary>
    public const int MaxChars = 4096;

    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;
    private const ulong WordSeed = 0x9E3779B97F4A7C15UL;
    private const ulong BigramSeed = 0xC2B2AE3D27D4EB4FUL;
    private const ulong CharacterSeed = 0x165667B19E3779F9UL;
    private const int MinGram = 3, MaxGram = 4;

    /// <summary>Calls <paramref name="visit"/> once per feature occurrence, in text order.</summary>
    public static void Visit<TState>(ReadOnlySpan<char> text, ref TState state, FeatureVisitor<TState> visit)
    {
        if (text.Length > MaxChars)
        {
            text = text[..MaxChars];
        }

        Span<char> buffer = text.Length + 2 <= 512 ? stackalloc char[text.Length + 2] : new char[text.Length + 2];
        ulong previousWord = 0;
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            var length = 1;
            buffer[0] = '<';
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                buffer[length++] = char.ToLowerInvariant(text[i++]);
            }

            if (length == 1)
            {
                break;
            }

            buffer[length++] = '>';
            var word = buffer[..length];
            var wordHash = Hash(word, WordSeed);
            visit(ref state, Finish(wordHash), NgramKind.Word);
            if (previousWord != 0)
            {
                visit(ref state, Finish((previousWord * FnvPrime) ^ wordHash ^ BigramSeed), NgramKind.Bigram);
            }

            previousWord = wordHash;
            for (var start = 0; start + MinGram <= length; start++)
            {
                var h = FnvOffset ^ CharacterSeed;
                for (var k = 0; k < MaxGram && start + k < length; k++)
                {
                    h = (h ^ word[start + k]) * FnvPrime;
                    if (k + 1 >= MinGram)
                    {
                        visit(ref state, Finish(h ^ (ulong)(k + 1)), NgramKind.Character);
                    }
                }
            }
        }
    }

    private static ulong Hash(ReadOnlySpan<char> text, ulong seed)
    {
        var h = FnvOffset ^ seed;
        foreach (var c in text)
        {
            h = (h ^ c) * FnvPrime;
        }

        return h;
    }

    /// <summary>SplitMix64's finaliser: FNV's low bits are weak, and the embedder takes bucket and sign from the hash.</summary>
    private static ulong Finish(ulong h)
    {
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }
}

/// <summary>Receives one feature occurrence.</summary>
internal delegate void FeatureVisitor<TState>(ref TState state, ulong hash, NgramKind kind);
