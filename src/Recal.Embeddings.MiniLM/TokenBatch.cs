namespace Recal.Embeddings.MiniLM;

/// <summary>Texts of one token count that run through the model together: no padding, so no text's vector depends on its batch.</summary>
/// <param name="Length">Every text's token count, [CLS] and [SEP] included.</param>
/// <param name="Texts">Indices into the chunk, ascending.</param>
internal sealed record TokenBatch(int Length, int[] Texts)
{
    /// <summary>
    /// Groups the tokenised texts (null: no token, not embedded) by length, each group cut into batches of at most
    /// <paramref name="maxTokens"/> tokens; the longest first, so the costly batches do not come last on one worker.
    /// </summary>
    public static IReadOnlyList<TokenBatch> Plan(int[]?[] tokens, int maxTokens)
    {
        var batches = new List<TokenBatch>();
        var byLength = Enumerable.Range(0, tokens.Length)
            .Where(i => tokens[i] is not null)
            .GroupBy(i => tokens[i]!.Length)
            .OrderByDescending(g => g.Key);
        foreach (var group in byLength)
        {
            var texts = group.ToArray();
            var size = Math.Max(1, maxTokens / group.Key);
            for (var start = 0; start < texts.Length; start += size)
            {
                batches.Add(new TokenBatch(group.Key, texts[start..Math.Min(texts.Length, start + size)]));
            }
        }

        return batches;
    }
}
