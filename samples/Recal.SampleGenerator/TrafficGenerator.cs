using System.Globalization;

namespace Recal.Samples;

/// <summary>One generated production trace, with its true intent.</summary>
internal sealed record GeneratedTrace(
    string Id,
    int Week,
    DateTimeOffset Timestamp,
    string Text,
    bool Perturbed,
    string Intent,
    string Domain,
    string Output,
    string Model,
    string Plan,
    string Locale,
    string Surface,
    string UserId,
    string SessionId,
    bool Internal,
    int? Thumbs,
    int? Csat,
    bool Escalated,
    bool Continued,
    bool Completed,
    bool FollowUp,
    bool Labelled);

/// <summary>Draws twelve weeks of traffic following <see cref="Scenario"/>.</summary>
internal static class TrafficGenerator
{
    public static List<GeneratedTrace> Generate(Clinc clinc, Random random)
    {
        // A fixed, uneven (Zipf-like) popularity per intent within each domain group.
        var stable = Popularity(Scenario.StableDomains.SelectMany(clinc.IntentsOf).ToList(), random);
        var travel = Popularity([.. clinc.IntentsOf(Scenario.Travel)], random);
        var auto = Popularity([.. clinc.IntentsOf(Scenario.Auto)], random);

        var drafts = new List<(DateTimeOffset Time, int Week, string Intent)>();
        for (var week = 1; week <= Scenario.Weeks; week++)
        {
            var count = (int)Math.Round(Scenario.TracesPerWeek * (0.9 + (0.2 * random.NextDouble())));
            var weekStart = Scenario.Start.AddDays(7 * (week - 1));
            for (var i = 0; i < count; i++)
            {
                var roll = random.NextDouble();
                string intent;
                if ((roll -= Scenario.TravelShare(week)) < 0)
                {
                    intent = Pick(travel, random);
                }
                else if ((roll -= Scenario.AutoShare(week)) < 0)
                {
                    intent = Pick(auto, random);
                }
                else if ((roll -= Scenario.OutOfScopeShare(week)) < 0)
                {
                    intent = Scenario.OutOfScope;
                }
                else
                {
                    intent = Pick(stable, random);
                }

                var day = PickIndex(Scenario.WeekdayWeights, random);
                var time = weekStart.AddDays(day).AddSeconds(Math.Floor(random.NextDouble() * 86400));
                drafts.Add((time, week, intent));
            }
        }

        drafts.Sort((a, b) => a.Time.CompareTo(b.Time));
        var traces = new List<GeneratedTrace>(drafts.Count);
        foreach (var (time, week, intent) in drafts)
        {
            var domain = clinc.DomainOf[intent];
            var texts = clinc.HeldOut[intent];
            var text = texts[random.Next(texts.Count)];
            var perturbed = random.NextDouble() < 0.15;
            if (perturbed)
            {
                text = Perturb(text, random);
            }

            var plan = Scenario.Plans[PickIndex(Scenario.PlanShares(week), random)];
            var feedback = Feedback(intent, domain, Scenario.Model(week), random);
            traces.Add(new GeneratedTrace(
                $"t-{traces.Count + 1:000000}",
                week,
                time,
                text,
                perturbed,
                intent,
                domain,
                Answers.For(intent, domain, high: true),
                Scenario.Model(week),
                plan,
                Scenario.Locales[PickIndex(Scenario.LocaleShares, random)],
                Scenario.Surfaces[PickIndex(Scenario.SurfaceShares, random)],
                $"u-{random.Next(1, 5001):00000}",
                $"s-{random.Next():x8}",
                random.NextDouble() < 0.005,
                feedback.Thumbs,
                feedback.Csat,
                feedback.Escalated,
                random.NextDouble() < 0.6,
                feedback.Completed,
                random.NextDouble() < 0.15,
                random.NextDouble() < 0.10));
        }

        return traces;
    }

    /// <summary>
    /// Users of new or unsupported features are less happy and escalate more: signal for the online instruments. The
    /// July release is the bot tuned on the gold set: it aces gold's phrasings and answers real ones worse (see
    /// Recal.SampleBot --accuracy), so on the intents it has always served users are less happy with it than with May's.
    /// </summary>
    private static (int? Thumbs, int? Csat, bool Escalated, bool Completed) Feedback(string intent, string domain, string release, Random random)
    {
        var happy = domain switch
        {
            Scenario.OutOfScope => 0.35,
            Scenario.Travel => 0.55,
            Scenario.Auto => 0.6,
            _ => release == Scenario.TunedRelease ? 0.74 : 0.82,
        };
        var escalate = domain == Scenario.OutOfScope ? 0.2 : intent is "card_declined" or "report_fraud" ? 0.3 : 0.04;
        int? thumbs = random.NextDouble() < 0.3 ? (random.NextDouble() < happy ? 1 : -1) : null;
        int? csat = random.NextDouble() < 0.1 ? Math.Clamp((int)Math.Round(1 + (4 * happy) + (random.NextDouble() * 2) - 1), 1, 5) : null;
        return (thumbs, csat, random.NextDouble() < escalate, random.NextDouble() < (domain == Scenario.OutOfScope ? 0.3 : 0.7));
    }

    private static string Perturb(string text, Random random) => random.Next(4) switch
    {
        0 => char.ToUpper(text[0], CultureInfo.InvariantCulture) + text[1..],
        1 => text.TrimEnd('?', '.') + "?",
        2 => "pls " + text,
        _ => DropLetter(text, random),
    };

    private static string DropLetter(string text, Random random)
    {
        var letters = Enumerable.Range(0, text.Length).Where(i => char.IsLetter(text[i])).ToList();
        if (letters.Count < 6)
        {
            return text;
        }

        var at = letters[random.Next(1, letters.Count - 1)];
        return text.Remove(at, 1);
    }

    private static (string[] Intents, double[] Weights) Popularity(List<string> intents, Random random)
    {
        var shuffled = intents.ToArray();
        random.Shuffle(shuffled);
        return (shuffled, [.. shuffled.Select((_, rank) => 1 / Math.Pow(rank + 1, 0.8))]);
    }

    private static string Pick((string[] Intents, double[] Weights) popularity, Random random) =>
        popularity.Intents[PickIndex(popularity.Weights, random)];

    internal static int PickIndex(IReadOnlyList<double> weights, Random random)
    {
        var roll = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Count; i++)
        {
            if ((roll -= weights[i]) < 0)
            {
                return i;
            }
        }

        return weights.Count - 1;
    }
}
