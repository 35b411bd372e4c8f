using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text;
using Recal.Domain;

namespace Recal.Classification;

/// <summary>
/// The built-in intent classifier: TF-IDF over hashed word and character n-grams (<see cref="TextFeaturizer"/>)
/// with a multinomial logistic regression trained by deterministic SGD on the taxonomy's examples.
/// Predictions whose softmax probability falls below the taxonomy's threshold are <c>unknown</c>.
/// </summary>
public sealed class LinearIntentClassifier : IIntentClassifier
{
    // Part of the model format and the fingerprint: bump it whenever features or training change, so cached models retrain.
    private const byte FormatVersion = 2;
    private const int Epochs = 40;
    private const float L2 = 1e-5f;

    private readonly string[] _classes;
    private readonly Dictionary<ulong, int> _rows;
    private readonly FeatureTable _table;
    private readonly float[] _idf;
    private readonly float[] _weights;
    private readonly float[] _bias;
    private readonly double _unknownBelow;

    // Per-thread feature buffers: classification runs on every ingest thread and must not allocate per call.
    [ThreadStatic]
    private static ulong[]? t_features;

    [ThreadStatic]
    private static int[]? t_counts;

    private LinearIntentClassifier(string[] classes, Dictionary<ulong, int> rows, float[] idf, float[] weights, float[] bias, double unknownBelow)
    {
        _classes = classes;
        _rows = rows;
        _table = new FeatureTable(rows);
        _idf = idf;
        _weights = weights;
        _bias = bias;
        _unknownBelow = unknownBelow;
    }

    /// <summary>Folds of the cross-validation that calibrates the unknown threshold.</summary>
    public const int CalibrationFolds = 5;

    public IReadOnlyList<string> Classes => _classes;

    /// <summary>The confidence below which a prediction is <c>unknown</c>: the taxonomy's, or the one calibrated on held-out examples.</summary>
    public double UnknownBelow => _unknownBelow;

    /// <summary>
    /// Trains on each intent's examples and keywords; the same taxonomy and seed give bit-identical weights. With
    /// <c>unknown_below: auto</c> the threshold is first calibrated by cross-validation (<see cref="CalibrateUnknownBelow"/>).
    /// </summary>
    public static LinearIntentClassifier Train(Taxonomy taxonomy, int seed = 17)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        var classes = taxonomy.Intents.Select(i => i.Name).ToArray();
        var examples = Examples(taxonomy);
        var unknownBelow = taxonomy.Classifier.Calibrated ? CalibrateUnknownBelow(taxonomy, seed) : taxonomy.Classifier.UnknownBelow;
        return TrainOn(classes, examples, unknownBelow, seed);
    }

    /// <summary>
    /// The unknown threshold calibrated on held-out examples: each intent's examples are dealt into
    /// <see cref="CalibrationFolds"/> folds in a seeded order; a model trained without a fold classifies it; the threshold
    /// is the confidence below which <see cref="ClassifierSettings.UnknownRate"/> of the held-out in-taxonomy examples
    /// fall (the lower empirical quantile). An intent with one example is never held out. 0 when nothing can be held out.
    /// </summary>
    public static double CalibrateUnknownBelow(Taxonomy taxonomy, int seed = 17)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        var classes = taxonomy.Intents.Select(i => i.Name).ToArray();
        var examples = Examples(taxonomy);
        var random = new Random(seed);
        var fold = new int[examples.Count];
        foreach (var group in Enumerable.Range(0, examples.Count).GroupBy(i => examples[i].Label))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            for (var j = 0; j < members.Length; j++)
            {
                fold[members[j]] = members.Length < 2 ? -1 : j % CalibrationFolds;
            }
        }

        var confidences = new List<double>();
        for (var f = 0; f < CalibrationFolds; f++)
        {
            var heldOut = Enumerable.Range(0, examples.Count).Where(i => fold[i] == f).ToList();
            if (heldOut.Count == 0)
            {
                continue;
            }

            var model = TrainOn(classes, [.. Enumerable.Range(0, examples.Count).Where(i => fold[i] != f).Select(i => examples[i])], 0, seed);
            confidences.AddRange(heldOut.Select(i => model.Classify(examples[i].Text).Confidence));
        }

        if (confidences.Count == 0)
        {
            return 0;
        }

        confidences.Sort();
        return confidences[(int)Math.Floor(taxonomy.Classifier.UnknownRate * confidences.Count)];
    }

    private static List<(string Text, int Label)> Examples(Taxonomy taxonomy)
    {
        var examples = new List<(string Text, int Label)>();
        for (var c = 0; c < taxonomy.Intents.Count; c++)
        {
            var intent = taxonomy.Intents[c];
            examples.AddRange(intent.Examples.Select(e => (e, c)));
            examples.AddRange(intent.Keywords.Select(k => (k, c)));
        }

        return examples;
    }

    private static LinearIntentClassifier TrainOn(string[] classes, List<(string Text, int Label)> examples, double unknownBelow, int seed)
    {
        if (classes.Length == 0 || examples.Count == 0)
        {
            return new LinearIntentClassifier(classes, [], [], [], new float[classes.Length], unknownBelow);
        }

        // Vocabulary and document frequencies from the training set.
        var features = new ulong[64];
        var counts = new int[64];
        var rows = new Dictionary<ulong, int>();
        var documentFrequency = new List<int>();
        var featurized = new List<(int[] Rows, float[] Tf, int Label)>(examples.Count);
        foreach (var (text, label) in examples)
        {
            var n = TextFeaturizer.Featurize(text, ref features, ref counts);
            var exampleRows = new int[n];
            var tf = new float[n];
            for (var j = 0; j < n; j++)
            {
                if (!rows.TryGetValue(features[j], out var row))
                {
                    row = rows.Count;
                    rows.Add(features[j], row);
                    documentFrequency.Add(0);
                }

                documentFrequency[row]++;
                exampleRows[j] = row;
                tf[j] = 1 + MathF.Log(counts[j]);
            }

            featurized.Add((exampleRows, tf, label));
        }

        // Smoothed idf as in scikit-learn: ln((1 + n) / (1 + df)) + 1.
        var idf = documentFrequency.Select(df => (float)(Math.Log((1.0 + examples.Count) / (1.0 + df)) + 1)).ToArray();
        var vectors = featurized.Select(e => (e.Rows, Values: Normalise(e.Rows, e.Tf, idf), e.Label)).ToArray();

        var k = classes.Length;
        var weights = new float[rows.Count * k];
        var bias = new float[k];
        var scores = new float[k];
        var random = new Random(seed);
        var order = Enumerable.Range(0, vectors.Length).ToArray();
        var step = 0;
        for (var epoch = 0; epoch < Epochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var index in order)
            {
                var (exampleRows, values, label) = vectors[index];
                var rate = 4.0f / (1 + (0.2f * step++ / vectors.Length));
                Scores(weights, bias, k, exampleRows, values, scores);
                Softmax(scores);
                scores[label] -= 1;

                // Gradient of the cross-entropy: (p - y) x; lazy L2 would be exact but plain decay is enough here.
                for (var j = 0; j < exampleRows.Length; j++)
                {
                    var row = weights.AsSpan(exampleRows[j] * k, k);
                    TensorPrimitives.Multiply(row, 1 - (rate * L2), row);
                    TensorPrimitives.MultiplyAdd(scores, -rate * values[j], row, row);
                }

                TensorPrimitives.MultiplyAdd(scores, -rate * 0.1f, bias, bias);
            }
        }

        return new LinearIntentClassifier(classes, rows, idf, weights, bias, unknownBelow);
    }

    public IntentPrediction Classify(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var k = _classes.Length;
        if (k == 0)
        {
            return new IntentPrediction(Taxonomy.UnknownIntent, 0, true, Taxonomy.UnknownIntent);
        }

        var features = t_features ??= new ulong[256];
        var counts = t_counts ??= new int[256];
        var n = TextFeaturizer.Featurize(text, ref features, ref counts);
        t_features = features;
        t_counts = counts;
        Span<int> rows = n <= 512 ? stackalloc int[n] : new int[n];
        Span<float> values = n <= 512 ? stackalloc float[n] : new float[n];
        var known = 0;
        for (var j = 0; j < n; j++)
        {
            if (_table.TryGetRow(features[j], out var row))
            {
                rows[known] = row;
                values[known] = (1 + MathF.Log(counts[j])) * _idf[row];
                known++;
            }
        }

        rows = rows[..known];
        values = values[..known];
        var norm = TensorPrimitives.Norm(values);
        if (norm > 0)
        {
            TensorPrimitives.Divide(values, norm, values);
        }

        Span<float> scores = k <= 1024 ? stackalloc float[k] : new float[k];
        Scores(_weights, _bias, k, rows, values, scores);
        Softmax(scores);
        var best = TensorPrimitives.IndexOfMax(scores);
        var confidence = scores[best];
        var intent = _classes[best];
        return confidence < _unknownBelow
            ? new IntentPrediction(Taxonomy.UnknownIntent, confidence, true, intent)
            : new IntentPrediction(intent, confidence, false, intent);
    }

    /// <summary>SHA-256 over everything training depends on, to key a cached model.</summary>
    public static string TaxonomyFingerprint(Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        var text = new StringBuilder();
        var classifier = taxonomy.Classifier;
        text.Append(FormatVersion).Append('\u001f').Append(classifier.Calibrated
            ? "auto:" + classifier.UnknownRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture)
            : classifier.UnknownBelow.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
        foreach (var intent in taxonomy.Intents)
        {
            text.Append('\u001e').Append(intent.Name);
            foreach (var example in intent.Examples.Concat(["\u001d"]).Concat(intent.Keywords))
            {
                text.Append('\u001f').Append(example);
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public byte[] Serialize()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(FormatVersion);
            writer.Write(_unknownBelow);
            writer.Write(_classes.Length);
            foreach (var name in _classes)
            {
                writer.Write(name);
            }

            writer.Write(_rows.Count);
            foreach (var (feature, row) in _rows.OrderBy(kv => kv.Value))
            {
                writer.Write(feature);
                writer.Write(_idf[row]);
            }

            foreach (var w in _weights)
            {
                writer.Write(w);
            }

            foreach (var b in _bias)
            {
                writer.Write(b);
            }
        }

        return stream.ToArray();
    }

    public static LinearIntentClassifier Deserialize(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var reader = new BinaryReader(new MemoryStream(data), Encoding.UTF8);
        var version = reader.ReadByte();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"classifier model format {version} is not supported (this version reads {FormatVersion}); retrain it");
        }

        var unknownBelow = reader.ReadDouble();
        var classes = new string[reader.ReadInt32()];
        for (var i = 0; i < classes.Length; i++)
        {
            classes[i] = reader.ReadString();
        }

        var rowCount = reader.ReadInt32();
        var rows = new Dictionary<ulong, int>(rowCount);
        var idf = new float[rowCount];
        for (var i = 0; i < rowCount; i++)
        {
            rows.Add(reader.ReadUInt64(), i);
            idf[i] = reader.ReadSingle();
        }

        var weights = new float[rowCount * classes.Length];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = reader.ReadSingle();
        }

        var bias = new float[classes.Length];
        for (var i = 0; i < bias.Length; i++)
        {
            bias[i] = reader.ReadSingle();
        }

        return new LinearIntentClassifier(classes, rows, idf, weights, bias, unknownBelow);
    }

    private static float[] Normalise(int[] rows, float[] tf, float[] idf)
    {
        var values = new float[rows.Length];
        for (var j = 0; j < rows.Length; j++)
        {
            values[j] = tf[j] * idf[rows[j]];
        }

        var norm = TensorPrimitives.Norm(values);
        if (norm > 0)
        {
            TensorPrimitives.Divide(values, norm, values);
        }

        return values;
    }

    private static void Scores(float[] weights, float[] bias, int k, ReadOnlySpan<int> rows, ReadOnlySpan<float> values, Span<float> scores)
    {
        bias.CopyTo(scores);
        for (var j = 0; j < rows.Length; j++)
        {
            TensorPrimitives.MultiplyAdd(weights.AsSpan(rows[j] * k, k), values[j], scores, scores);
        }
    }

    private static void Softmax(Span<float> scores) => TensorPrimitives.SoftMax(scores, scores);
}
