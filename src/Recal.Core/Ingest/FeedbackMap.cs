using System.Globalization;
using Recal.Diagnostics;
using Recal.Domain;

namespace Recal.Ingest;

/// <summary>One of Recal's online signals (<see cref="Feedback"/>).</summary>
public enum FeedbackSignal
{
    Thumbs,
    Csat,
    Escalated,
    Continued,
    Completed,
    FollowUp,
}

/// <summary>
/// Which named feedback of a source (an evaluation's name, an annotation's name, a Langfuse score, a LangSmith
/// feedback key, a span attribute) is which of Recal's signals, and how its value reads. Names match case-insensitively.
/// </summary>
public sealed class FeedbackMap
{
    private readonly Dictionary<string, FeedbackSignal> _names;

    private FeedbackMap(Dictionary<string, FeedbackSignal> names) => _names = names;

    /// <summary>The names read without configuration (docs/trace-format.md#feedback-from-other-formats).</summary>
    public static FeedbackMap Default { get; } = new(new Dictionary<string, FeedbackSignal>(StringComparer.OrdinalIgnoreCase)
    {
        ["thumbs"] = FeedbackSignal.Thumbs,
        ["user_feedback"] = FeedbackSignal.Thumbs,
        ["user-feedback"] = FeedbackSignal.Thumbs,
        ["feedback"] = FeedbackSignal.Thumbs,
        ["thumbs_up"] = FeedbackSignal.Thumbs,
        ["user.feedback"] = FeedbackSignal.Thumbs,
        ["csat"] = FeedbackSignal.Csat,
        ["satisfaction"] = FeedbackSignal.Csat,
        ["escalated"] = FeedbackSignal.Escalated,
        ["escalation"] = FeedbackSignal.Escalated,
        ["continued"] = FeedbackSignal.Continued,
        ["completed"] = FeedbackSignal.Completed,
        ["task_completed"] = FeedbackSignal.Completed,
        ["resolved"] = FeedbackSignal.Completed,
        ["follow_up"] = FeedbackSignal.FollowUp,
        ["followup"] = FeedbackSignal.FollowUp,
    });

    /// <summary>The signal names as written in <c>--feedback NAME=SIGNAL</c> and recal.yaml.</summary>
    public static IReadOnlyList<string> SignalNames { get; } = ["thumbs", "csat", "escalated", "continued", "completed", "follow_up"];

    /// <summary>The default map with <paramref name="mappings"/> added (a mapping of a default name replaces it).</summary>
    public FeedbackMap With(IEnumerable<KeyValuePair<string, FeedbackSignal>> mappings)
    {
        var names = new Dictionary<string, FeedbackSignal>(_names, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, signal) in mappings)
        {
            names[name] = signal;
        }

        return new FeedbackMap(names);
    }

    /// <summary>Parses <c>NAME=SIGNAL</c> pairs; each bad one is a diagnostic naming the valid signals.</summary>
    public static (FeedbackMap Map, IReadOnlyList<Diagnostic> Errors) Parse(IEnumerable<string> pairs, FeedbackMap? basis = null)
    {
        var errors = new List<Diagnostic>();
        var mappings = new List<KeyValuePair<string, FeedbackSignal>>();
        foreach (var pair in pairs)
        {
            var cut = pair.LastIndexOf('=');
            if (cut <= 0 || cut == pair.Length - 1)
            {
                errors.Add(new Diagnostic(Severity.Error, "RC2012", $"--feedback '{pair}' is not NAME=SIGNAL", null, "e.g. --feedback helpfulness=thumbs; signals: " + string.Join(", ", SignalNames)));
                continue;
            }

            if (TryParseSignal(pair[(cut + 1)..], out var signal))
            {
                mappings.Add(new(pair[..cut], signal));
            }
            else
            {
                errors.Add(new Diagnostic(Severity.Error, "RC2012", $"--feedback '{pair}': '{pair[(cut + 1)..]}' is not a signal", null, "signals: " + string.Join(", ", SignalNames)));
            }
        }

        return ((basis ?? Default).With(mappings), errors);
    }

    public static bool TryParseSignal(string text, out FeedbackSignal signal)
    {
        var index = SignalNames.ToList().FindIndex(n => string.Equals(n, text.Replace('-', '_'), StringComparison.OrdinalIgnoreCase));
        signal = index < 0 ? default : (FeedbackSignal)index;
        return index >= 0;
    }

    public bool TryGet(string name, out FeedbackSignal signal) => _names.TryGetValue(name, out signal);

    /// <summary>
    /// <paramref name="feedback"/> with the named feedback applied when the name is mapped; an unmapped name leaves it
    /// as it is. A mapped name whose value cannot be read as its signal is an error (what was given and what is read).
    /// </summary>
    /// <param name="value">A number (a score), a string (a label), a boolean, or null.</param>
    /// <param name="label">A label given beside a score (an evaluation's <c>score.label</c>), read when the score is absent or unreadable.</param>
    public Feedback Apply(Feedback feedback, string name, object? value, string? label, out string? error)
    {
        error = null;
        if (!_names.TryGetValue(name, out var signal))
        {
            return feedback;
        }

        var read = Read(signal, value) ?? (label is null ? null : Read(signal, label));
        if (read is null)
        {
            error = $"feedback '{name}' maps to {SignalNames[(int)signal]} but its value {Describe(value ?? label)} cannot be read as one ({Expected(signal)})";
            return feedback;
        }

        var v = read.Value;
        return signal switch
        {
            FeedbackSignal.Thumbs => feedback with { Thumbs = v > 0 ? 1 : -1 },
            FeedbackSignal.Csat => feedback with { Csat = v },
            FeedbackSignal.Escalated => feedback with { Escalated = v > 0 },
            FeedbackSignal.Continued => feedback with { Continued = v > 0 },
            FeedbackSignal.Completed => feedback with { Completed = v > 0 },
            _ => feedback with { FollowUp = v > 0 },
        };
    }

    private static readonly string[] Positive = ["up", "thumbs_up", "thumbsup", "👍", "positive", "good", "like", "liked", "yes", "true", "correct", "helpful", "pass", "passed", "1"];
    private static readonly string[] Negative = ["down", "thumbs_down", "thumbsdown", "👎", "negative", "bad", "dislike", "disliked", "no", "false", "incorrect", "unhelpful", "fail", "failed", "0", "-1"];

    /// <summary>The value as a number: for thumbs and flags &gt; 0 is positive; for CSAT 1 to 5. Null when unreadable.</summary>
    private static double? Read(FeedbackSignal signal, object? value)
    {
        double? number = value switch
        {
            bool b => b ? 1 : signal == FeedbackSignal.Thumbs ? -1 : 0,
            long l => l,
            int i => i,
            double d when double.IsFinite(d) => d,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) => parsed,
            string s when Positive.Contains(s.Trim().ToLowerInvariant()) => 1,
            string s when Negative.Contains(s.Trim().ToLowerInvariant()) => signal == FeedbackSignal.Thumbs ? -1 : 0,
            _ => null,
        };
        if (number is not { } n)
        {
            return null;
        }

        return signal switch
        {
            FeedbackSignal.Csat => n is >= 1 and <= 5 ? n : null,
            // A thumb is a sign: 1 / 0 (a boolean score) and 1 / -1 both read; 0 is down.
            FeedbackSignal.Thumbs => n > 0 ? 1 : -1,
            _ => n is 0 or 1 ? n : null,
        };
    }

    private static string Expected(FeedbackSignal signal) => signal switch
    {
        FeedbackSignal.Thumbs => "a number (> 0 is up), true/false, or a label such as up/down, positive/negative, good/bad",
        FeedbackSignal.Csat => "a number from 1 to 5",
        _ => "true/false, 1/0 or yes/no",
    };

    private static string Describe(object? value) => value switch
    {
        null => "(none)",
        string s => $"\"{(s.Length > 40 ? s[..40] + "…" : s)}\"",
        double d => d.ToString(CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?",
    };
}
