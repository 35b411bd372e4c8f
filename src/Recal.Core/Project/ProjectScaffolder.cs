using System.Globalization;
using System.Text;
using Recal.Diagnostics;
using Recal.Domain;

namespace Recal.Project;

/// <summary>Writes a commented starter project (<c>recal init</c>). Never overwrites a file.</summary>
public static class ProjectScaffolder
{
    public static IReadOnlyList<Diagnostic> Scaffold(string directory, string name) => Scaffold(directory, name, Taxonomy, StarterPolicy, Cases);

    /// <summary>
    /// The project <c>recal init --from-traces</c> writes: the proposed taxonomy, a starter policy whose size fits a
    /// floor for every proposed intent, and starter cases drawn from the proposed intents.
    /// </summary>
    public static IReadOnlyList<Diagnostic> Scaffold(string directory, string name, TaxonomyProposal proposal, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var policy = PolicyHead(ProposalWriter.PolicySize(proposal.Intents.Count), "Starter policy for a taxonomy proposed from traffic; replace with your team's rule.")
            + Alarms(AlarmThresholds.Defaults) + Gates(GatePolicy.Defaults);
        return Scaffold(directory, name, ProposalWriter.Taxonomy(proposal), policy, ProposalWriter.Cases(proposal, today));
    }

    /// <summary>The files init would write that already exist (it never overwrites one): known before any work.</summary>
    public static IReadOnlyList<Diagnostic> Conflicts(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var diagnostics = new DiagnosticBag();
        foreach (var file in Files)
        {
            var path = Path.Combine(directory, file);
            if (File.Exists(path))
            {
                diagnostics.Error("RC1010", $"{file} already exists; init never overwrites a file", new SourceLocation(path), "run init in an empty folder, or remove the file");
            }
        }

        return diagnostics.Items;
    }

    private static readonly string[] Files = ["recal.yaml", "taxonomy.yaml", "policy.yaml", Path.Combine("cases", "gold.jsonl"), ".gitignore"];

    private static IReadOnlyList<Diagnostic> Scaffold(string directory, string name, string taxonomy, string policy, string cases)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(name);
        var diagnostics = new DiagnosticBag();
        var files = new Dictionary<string, string>
        {
            ["recal.yaml"] = ProjectFile(name),
            ["taxonomy.yaml"] = taxonomy,
            ["policy.yaml"] = policy,
            [Path.Combine("cases", "gold.jsonl")] = cases,
            [".gitignore"] = "# The embedded store and caches: rebuilt from your traces, never committed.\n.recal/\n",
        };
        var conflicts = Conflicts(directory);
        if (conflicts.Count > 0)
        {
            return conflicts;
        }

        foreach (var (file, contents) in files)
        {
            var path = Path.Combine(directory, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, contents.ReplaceLineEndings("\n"));
        }

        return diagnostics.Items;
    }

    private static string ProjectFile(string name) => $"""
        # Recal eval project (docs/project-format.md).
        # Format version of this file: Recal refuses files newer than it understands.
        version: 1
        # A name for reports.
        name: {name}
        # The embedded store (SQLite) for traces, runs and caches; relative to this folder, git-ignored.
        store: .recal/recal.db
        # Intents and cohort dimensions that traces and cases are classified into.
        taxonomy: taxonomy.yaml
        # The written, versioned rule for how the eval set is drawn, and the drift alarm thresholds.
        policy: policy.yaml
        # A folder of *.jsonl case files (or a list of files and folders).
        cases: cases

        """;

    private const string Taxonomy = """
        # Intents and cohort dimensions (docs/project-format.md#taxonomyyaml).
        version: 1

        classifier:
          # Traces whose best intent has a probability below this are labelled 'unknown'. auto calibrates it on
          # held-out examples so that about unknown_rate of in-taxonomy requests go unknown; a number fixes it.
          unknown_below: auto
          unknown_rate: 0.05

        # Each intent's examples train the built-in classifier for unlabelled traces: give at least 5,
        # written the way users write. 'group' rolls intents up in reports.
        intents:
          - name: refund
            group: billing
            description: Asks for money back for an order or a charge.
            examples:
              - i want my money back
              - how do i get a refund for my order
              - can you refund the charge from last week
              - please return the payment for the broken item
              - refund my subscription
          - name: cancel_subscription
            group: billing
            description: Wants to stop a recurring plan.
            examples:
              - cancel my subscription
              - how do i stop my plan from renewing
              - i don't want to be charged monthly anymore
              - end my membership
              - turn off auto renewal
          - name: reset_password
            group: account
            description: Cannot sign in and wants a new password.
            examples:
              - i forgot my password
              - how do i reset my password
              - can't log in to my account
              - send me a password reset link
              - my login isn't working

        # Cohort dimensions come from trace metadata. 'values' lists the allowed values (empty: any);
        # traces without the field, or with another value, get the 'missing' value.
        cohorts:
          - name: plan
            field: plan
            values: [free, pro]
            missing: unknown

        """;

    private static string PolicyHead(int size, string description) => $$"""
        # The sampling policy: how the eval set is drawn, kept and checked (docs/project-format.md#policyyaml).
        # Bump 'version' whenever you change a rule: scores and reports name the policy version they used.
        version: 1
        description: {{description}}

        # Number of cases in the set, and how much recent traffic it is drawn from and compared with.
        size: {{size.ToString(CultureInfo.InvariantCulture)}}
        traffic_window: 28d            # durations: 12h, 28d, 4w

        strata:
          by: [intent]                 # intent and/or cohort dimension names
          default: traffic             # how unlisted strata share the weight: traffic | equal | none
          weights: {}                  # fixed weights per stratum, e.g. {refund: 0.2}
          floor: 5                     # every stratum seen in traffic keeps at least this many cases

        exclusions:
          patterns: ['\b\d{13,19}\b']  # regular expressions for personal data (here: card numbers)
          metadata: {user_type: [internal, test]}
          near_duplicate_similarity: 0.95
          min_input_chars: 3

        holdout_fraction: 0.2          # the holdout is its own draw of size × this, sealed once labelled
        refresh: 7d                    # shadow-set cadence
        rotation: 90d                  # holdout-to-gold rotation cadence

        promotion: {min_weight: 0.01, cycles: 3}
        retirement: {unmatched_cycles: 4, expired: true, newly_passing: true}

        """;

    /// <summary>The starter policy.yaml <c>recal init</c> writes: its alarms are <see cref="AlarmThresholds.Defaults"/>, the validated defaults.</summary>
    public static string StarterPolicy { get; } = PolicyHead(200, "Starter policy; replace with your team's rule.") + Alarms(AlarmThresholds.Defaults) + Gates(GatePolicy.Defaults);

    /// <summary>The commented <c>alarms:</c> section for <paramref name="a"/>.</summary>
    public static string Alarms(AlarmThresholds a)
    {
        ArgumentNullException.ThrowIfNull(a);
        (string Key, double Value, string Comment)[] lines =
        [
            ("false_alarm_rate", a.FalseAlarmRate, "chance that an unchanged window raises any alarm, shared among the tests"),
            ("js_distance", a.JsDistance, "minimum rise of the intent mix's Jensen–Shannon distance from the set"),
            ("psi", a.Psi, "minimum rise of the intent mix's population stability index"),
            ("missing_share", a.MissingShare, "minimum rise of the traffic share in intents with no case"),
            ("unknown_share", a.UnknownShare, "minimum rise of the share the classifier cannot place"),
            ("cohort_js_distance", a.CohortJsDistance, "minimum rise of each cohort dimension's distance"),
            ("coverage_drop", a.CoverageDrop, "minimum fall of embedding coverage"),
            ("stratum_coverage_drop", a.StratumCoverageDrop, "minimum fall of one stratum's coverage"),
            ("novelty", a.Novelty, "minimum rise of the share far from every case and taxonomy example"),
            ("thumbs_up_drop", a.ThumbsUpDrop, "minimum fall of the thumbs-up rate"),
            ("escalation_rise", a.EscalationRise, "minimum rise of the escalation rate"),
            ("p_value", a.PValue, "level of the run-based tests (gold vs shadow, releases)"),
            ("gold_shadow_gap", a.GoldShadowGap, "gold above shadow by at least this says gold is stale"),
            ("release_divergence", a.ReleaseDivergence, "users' move between releases that gold contradicts"),
        ];
        var text = new StringBuilder();
        text.Append('\n');
        text.Append("# Drift alarms (docs/drift.md#calibrated-alarms). Each traffic instrument compares a window with the reference\n");
        text.Append("# window (the first traffic_window of stored traffic) and alarms when the change is beyond what the reference's own\n");
        text.Append("# variability explains at the window's size AND at least the minimum effect below.\n");
        text.Append("alarms:\n");
        foreach (var (key, value, comment) in lines)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {$"{key}: {value.ToString(CultureInfo.InvariantCulture)}",-29}# {comment}\n");
        }

        return text.ToString();
    }

    /// <summary>The commented <c>gates:</c> section for <paramref name="g"/> (docs/gates.md).</summary>
    public static string Gates(GatePolicy g)
    {
        ArgumentNullException.ThrowIfNull(g);
        string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        text.Append('\n');
        text.Append("# Upgrade gates (docs/gates.md): what recal gate --baseline B --candidate C needs before a candidate ships.\n");
        text.Append("gates:\n");
        text.Append(CultureInfo.InvariantCulture, $"  {$"unknown: {EnumNames.Name(g.Unknown)}",-29}# a gate that cannot tell (too few cases, no traffic) fails the decision\n");
        text.Append(CultureInfo.InvariantCulture, $"  {$"assertions: {Number(g.Assertions)}",-29}# share of the candidate's layer-1 assertion results that must pass\n");
        text.Append("  gold:\n");
        text.Append(CultureInfo.InvariantCulture, $"    {$"max_regression: {Number(g.MaxRegression)}",-27}# no segment may lose more than this, beyond noise\n");
        text.Append(CultureInfo.InvariantCulture, $"    {$"min_cases: {g.MinCases}",-27}# fewer paired cases, with one newly failing: unknown\n");
        text.Append(CultureInfo.InvariantCulture, $"  {$"holdout: {(g.Holdout ? "true" : "false")}",-29}# neutral or better on the sealed holdout, and the gold gain carries to it\n");
        text.Append(CultureInfo.InvariantCulture, $"  {$"shadow: {(g.Shadow ? "true" : "false")}",-29}# not worse beyond noise on the shadow pool\n");
        text.Append("  online:\n");
        text.Append(CultureInfo.InvariantCulture, $"    {$"mode: {EnumNames.Name(g.OnlineMode)}",-27}# shadow (an A/B, within 0.05) or canary (within 0.02)\n");
        text.Append(CultureInfo.InvariantCulture, $"    {$"# tolerance: {Number(g.EffectiveOnlineTolerance)}",-27}# thumbs up and escalation within this of the baseline release (default by mode)\n");
        return text.ToString();
    }

    private const string Cases = """
        {"id":"gold-0001","input":"how do i get a refund for a damaged order","references":[{"text":"I'm sorry the order arrived damaged. I've started a refund to your original payment method; it arrives in 3-5 business days.","grade":"high"},{"text":"You can request a refund from the Orders page.","grade":"borderline"}],"assertions":[{"type":"contains","value":"refund"}],"intent":"refund","cohort":{"plan":"free"},"difficulty":"easy","provenance":{"kind":"manual"},"added":"2026-01-05","valid_until":null,"pool":"gold","tags":["starter","billing"]}
        {"id":"gold-0002","input":"stop charging me every month","references":[{"text":"I can cancel your subscription now; you keep access until the end of the paid period.","grade":"high"}],"assertions":[],"intent":"cancel_subscription","cohort":{"plan":"pro"},"difficulty":"medium","provenance":{"kind":"bug_report","note":"renewal complaints"},"added":"2026-01-05","valid_until":null,"pool":"gold","tags":["starter","billing"]}
        {"id":"gold-0003","input":"i cant get into my account","references":[{"text":"I've sent a password reset link to the email on your account.","grade":"high"}],"assertions":[{"type":"not_contains","value":"password is"}],"intent":"reset_password","cohort":{"plan":"free"},"difficulty":"easy","provenance":{"kind":"manual"},"added":"2026-01-05","valid_until":null,"pool":"gold","tags":["starter","account"]}

        """;
}
