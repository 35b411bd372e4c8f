namespace Recal.Validation;

/// <summary>One intent of a scenario's taxonomy, with the examples that train the built-in classifier.</summary>
public sealed record IntentSpec(string Name, string Group, IReadOnlyList<string> Examples);

/// <summary>One part of a week's traffic: an intent (the truth), its share of the week, and the texts it is drawn from.</summary>
public sealed record MixComponent(string Intent, double Weight, IReadOnlyList<string> Texts);

/// <summary>One value of the <c>plan</c> cohort and its share of a week's traces.</summary>
public sealed record PlanShare(string Plan, double Weight);

/// <summary>A scenario's world for one seed: the taxonomy, the traffic of each week and the size of the gold set.</summary>
/// <param name="Labelled">
/// Whether traces carry their intent (otherwise ingestion classifies them). Only intents of the taxonomy are sent as
/// labels: an application labels the features it knows, and traffic outside them arrives unlabelled.
/// </param>
/// <param name="Week">The traffic mix of week 1 … <see cref="Timeline.Weeks"/>.</param>
public sealed record TrafficDesign(
    IReadOnlyList<IntentSpec> Taxonomy,
    bool Labelled,
    int TracesPerWeek,
    int GoldSize,
    int Floor,
    Func<int, IReadOnlyList<MixComponent>> Week)
{
    /// <summary>The <c>plan</c> mix of week 1 … <see cref="Timeline.Weeks"/>, drawn independently of the intent; stable unless a cohort scenario moves it.</summary>
    public Func<int, IReadOnlyList<PlanShare>> Plans { get; init; } = PlanCohort.StableWeek;
}

/// <summary>A validation scenario: a known shift in a known week (or none) and the instrument families expected to see it.</summary>
/// <param name="ShiftWeek">The first shifted week (for a gradual drift, the week its ramp starts); null for a scenario without shift.</param>
/// <param name="Expected">Instrument families (<see cref="Instruments.FamilyOf"/>) that should raise the alarm.</param>
/// <param name="DetectionWeeks">An alarm within this many weeks from <paramref name="ShiftWeek"/> counts as a detection.</param>
public sealed record Scenario(
    string Dataset,
    string Name,
    string Description,
    int? ShiftWeek,
    IReadOnlyList<string> Expected,
    Func<int, TrafficDesign> Design,
    int DetectionWeeks = Timeline.DetectionWeeks)
{
    public string Key => $"{Dataset}/{Name}";

    /// <summary>
    /// The seed a run of this scenario draws with: the run's seed mixed with the scenario's name (FNV-1a), so scenarios
    /// sharing a seed number do not share their weeks before the shift and their false alarms are independent.
    /// </summary>
    public int DrawSeed(int seed)
    {
        var hash = 2166136261u;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes($"{Key}#{seed}"))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash & int.MaxValue);
    }

    public override string ToString() => Key;
}
