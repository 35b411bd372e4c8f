using System.Buffers;

namespace Recal.Classification;

/// <summary>
/// Turns text into hashed features: word unigrams, word bigrams and character 3- to 5-grams of each word
/// padded with boundary marks. Hashes are 64-bit FNV-1a with a per-kind seed: stable across processes and machines.
/// </summary>
public static class TextFeaturizer
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;
    private const ulong WordSeed = 0x9E3779B97F4A7C15UL;
    private const ulong BigramSeed = 0xC2B2AE3D27D4EB4FUL;
    private const int MinGram = 3, MaxGram = 4;

    /// <summary>Texts longer than this are cut: intent shows early and the classifier must not stall on a 10 MB input.</summary>
    public const int MaxChars = 2048;

    /// <summary>
    /// Writes the sorted distinct feature hashes of <paramref name="text"/> into <paramref name="features"/> and their counts
    /// into <paramref name="counts"/>; returns how many. Buffers come from the shared pool and are grown as needed.
    /// </summary>
    public static int Featurize(ReadOnlySpan<char> text, ref ulong[] features, ref int[] counts)
    {
        if (text.Length > MaxChars)
        {
            text = text[..MaxChars];
        }

        var raw = ArrayPool<ulong>.Shared.Rent((text.Length * 4) + 16);
        var word = ArrayPool<char>.Shared.Rent(text.Length + 2);
        try
        {
            var n = 0;
            ulong previousWord = 0;
            var i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && !IsWordChar(text[i]))
                {
                    i++;
                }

                var length = 1;
                word[0] = '<';
                while (i < text.Length && IsWordChar(text[i]))
                {
                    word[length++] = Lower(text[i++]);
                }

                if (length == 1)
                {
                    break;
                }

                word[length++] = '>';
                var padded = word.AsSpan(0, length);
                var wordHash = Hash(padded, WordSeed);
                raw[n++] = wordHash;
                if (previousWord != 0)
                {
                    raw[n++] = Mix(previousWord ^ BigramSeed, wordHash);
                }

                previousWord = wordHash;
                for (var start = 0; start + MinGram <= length; start++)
                {
                    var h = FnvOffset;
                    for (var k = 0; k < MaxGram && start + k < length; k++)
                    {
                        h = (h ^ padded[start + k]) * FnvPrime;
                        if (k + 1 >= MinGram)
                        {
                            raw[n++] = h ^ ((ulong)(k + 1) << 56);
                        }
                    }
                }
            }

            Array.Sort(raw, 0, n);
            if (features.Length < n)
            {
                features = new ulong[Math.Max(n, features.Length * 2)];
                counts = new int[features.Length];
            }

            var distinct = 0;
            for (var j = 0; j < n; j++)
            {
                if (distinct > 0 && features[distinct - 1] == raw[j])
                {
                    counts[distinct - 1]++;
                }
                else
                {
                    features[distinct] = raw[j];
                    counts[distinct] = 1;
                    distinct++;
                }
            }

            return distinct;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(raw);
            ArrayPool<char>.Shared.Return(word);
        }
    }

    // ASCII answered without the Unicode tables; the same results as char.IsLetterOrDigit and char.ToLowerInvariant.
    private static bool IsWordChar(char c) => c < 128 ? char.IsAsciiLetterOrDigit(c) : char.IsLetterOrDigit(c);

    private static char Lower(char c) => c < 128 ? (char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c) : char.ToLowerInvariant(c);

    private static ulong Hash(ReadOnlySpan<char> text, ulong seed)
    {
        var h = FnvOffset ^ seed;
        foreach (var c in text)
        {
            h = (h ^ c) * FnvPrime;
        }

        return h;
    }

    private static ulong Mix(ulong a, ulong b)
    {
        var h = (a ^ (b + 0x9E3779B97F4A7C15UL + (a << 6) + (a >> 2))) * FnvPrime;
        return h ^ (h >> 29);
    }
}
