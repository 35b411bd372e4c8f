using System.Globalization;
using System.Text;
using Recal.Domain;
using Recal.Project;

namespace Recal.Samples;

/// <summary>The sample project's YAML files and documents.</summary>
internal static class ProjectFiles
{
    public const int ExamplesPerIntent = 20;

    public const string Project = """
        # Recal eval project: a support assistant for a consumer finance app, built from CLINC150.
        # Regenerate everything here with samples/Recal.SampleGenerator (see README.md).
        version: 1
        name: clinc150-support
        store: .recal/recal.db         # the embedded store; git-ignored
        taxonomy: taxonomy.yaml
        policy: policy.yaml
        cases: cases                   # every *.jsonl file under cases/

        run:
          concurrency: 16
          max_error_share: 0.02        # more errored cases than this and the run is degraded (exit 3)
          cache_ttl: 30d
          retries: 3
          timeout: 30s

        # The systems under test. samples/run-sample.sh serves the support bot on 127.0.0.1 and sets
        # RECAL_SAMPLE_BOT_URL; without it the default below is used.
        targets:
          baseline:
            type: openai
            base_url: ${RECAL_SAMPLE_BOT_URL:-http://127.0.0.1:8711/v1}
            model: support-bot-v1
            release: support-bot-2026.05 # production answered with it until week 6: its online signals are on the traces
            prompt: prompts/support.md
            parameters:
              temperature: 0
              max_tokens: 200
          gold-tuned:                  # the same bot, tuned until it aced the gold set
            type: openai
            base_url: ${RECAL_SAMPLE_BOT_URL:-http://127.0.0.1:8711/v1}
            model: support-bot-v2-gold-tuned
            release: support-bot-2026.07 # shipped in week 6
            prompt: prompts/support.md
            parameters:
              temperature: 0
              max_tokens: 200
          production:                  # the answers production gave, recorded on the traces
            type: replay
            source: traces

        # Three votes of one judge model with different seeds; the median decides.
        judge:
          rubric: rubrics/support-answer.yaml
          review_queue: .recal/review-queue.jsonl
          judges:
            - base_url: ${RECAL_SAMPLE_BOT_URL:-http://127.0.0.1:8711/v1}
              model: support-judge
              seed: 1
            - base_url: ${RECAL_SAMPLE_BOT_URL:-http://127.0.0.1:8711/v1}
              model: support-judge
              seed: 2
            - base_url: ${RECAL_SAMPLE_BOT_URL:-http://127.0.0.1:8711/v1}
              model: support-judge
              seed: 3

        """;

    public const string Rubric = """
        # How the judges grade a support answer (docs/judging.md). Bump the version on every change.
        name: support-answer
        version: 1
        instructions: The assistant supports customers of a consumer finance app. Grade against the reference answers.
        dimensions:
          - name: correctness
            description: Does the answer address this request the way the good reference does?
            scale: [1, 5]
            anchors:
              1: wrong topic, or declines a request it should handle
              3: on topic but vague, like the acceptable reference
              5: says what the good reference says
          - name: helpfulness
            description: Does it move the customer forward?
            scale: [1, 5]
            anchors:
              1: no help
              3: points somewhere
              5: gives the next step
        pass:
          all_at_least: 4

        """;

    public const string Prompt = """
        You are the support assistant of a consumer finance app. Help with accounts, cards, bills and trips;
        decline anything else politely and offer a person. Answer in one or two sentences.

        """;

    private const string PolicyHead = """
        # How the gold set is drawn and when drift raises an alarm (docs/project-format.md).
        version: 1
        description: Support assistant gold set, drawn from the first four weeks of traffic.
        size: 500
        traffic_window: 28d

        strata:
          by: [intent]
          default: traffic             # every intent gets its traffic share ...
          weights: {out_of_scope: 0.03}  # ... except out-of-scope, fixed at 3%
          floor: 3                     # and every intent seen keeps at least 3 cases

        exclusions:
          patterns: ['\b\d{13,19}\b']  # card numbers
          metadata: {user_type: [internal, test]}
          near_duplicate_similarity: 0.95
          min_input_chars: 3

        holdout_fraction: 0.2
        refresh: 7d
        rotation: 84d
        promotion: {min_weight: 0.01, cycles: 2}
        retirement: {unmatched_cycles: 4, expired: true, newly_passing: true}

        """;

    /// <summary>The sample's policy: its alarms are the defaults <c>recal init</c> writes.</summary>
    public static string Policy { get; } = PolicyHead + ProjectScaffolder.Alarms(AlarmThresholds.Defaults) + ProjectScaffolder.Gates(GatePolicy.Defaults);

    public const string Attribution = """
        # Attribution

        The queries in this sample (`taxonomy.yaml` examples, `traffic/traffic.jsonl.gz` inputs and the
        `cases/` inputs) come from **CLINC150** ("oos-eval"):

        - Stefan Larson, Anish Mahendran, Joseph J. Peper, Christopher Clarke, Andrew Lee, Parker Hill,
          Jonathan K. Kummerfeld, Kevin Leach, Michael A. Laurenzano, Lingjia Tang, Jason Mars.
          "An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction", EMNLP-IJCNLP 2019.
        - Source: https://github.com/clinc/oos-eval (commit 828f8093932c8fe6ca7936c3d2e52903b1c523de),
          files `data/data_full.json` and `data/domains.json`.
        - Licence: Creative Commons Attribution 3.0 Unported (CC BY 3.0),
          https://creativecommons.org/licenses/by/3.0/legalcode

        Changes: queries of seven of the ten domains and the out-of-scope queries were selected; the
        `train` split supplies the taxonomy's examples, the `val`/`test`/`oos_val`/`oos_test` splits supply
        the traffic; about 15% of traffic queries were lightly altered (capitalisation, a trailing question
        mark, "pls", a dropped letter); timestamps, metadata, feedback, outputs, reference answers and
        assertions are synthetic, written by `samples/Recal.SampleGenerator`. The label "oos" was renamed
        `out_of_scope`.

        """;

    public static string Taxonomy(Clinc clinc)
    {
        var yaml = new StringBuilder();
        yaml.Append("""
            # Intents of a support assistant (CLINC150 domains banking, credit_cards, utility, small_talk,
            # meta, travel, auto_and_commute, plus out-of-scope). Examples: the first 20 CLINC150 training
            # queries of each intent; they train the built-in classifier for unlabelled traffic.
            version: 1

            classifier:
              unknown_below: 0.2        # below this probability a trace is 'unknown' (docs/classifier.md)

            intents:

            """);
        foreach (var (intent, domain) in clinc.DomainOf.OrderBy(kv => kv.Value == Scenario.OutOfScope).ThenBy(kv => kv.Value, StringComparer.Ordinal).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - name: {intent}\n    group: {domain}\n    description: {Quote(Answers.Description(intent, domain))}\n    examples:\n");
            foreach (var example in clinc.Train[intent].Take(ExamplesPerIntent))
            {
                yaml.Append("      - ").Append(Quote(example)).Append('\n');
            }
        }

        yaml.Append("""

            # Cohorts come from trace metadata; values outside the list count as 'unknown'.
            cohorts:
              - name: plan
                values: [free, plus, premium]
              - name: locale
                values: [en-US, en-GB, en-IN]
              - name: surface
                values: [web, ios, android]

            """);
        return yaml.ToString();
    }

    public static string Readme(IReadOnlyList<WeekTruth> truth, int traces, int cases, int seed)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            # Sample: a support assistant whose traffic drifts away from its eval set

            A runnable Recal eval project built from the CLINC150 intent dataset (see ATTRIBUTION.md). A support
            assistant for a consumer finance app receives twelve weeks of traffic ({traces:N0} traces from
            Monday 2026-06-01); its gold set of {cases} cases was drawn from the first four weeks. Then the product
            changes under it:

            - **week 6**: travel features launch; the travel domain reaches 20% of traffic by week 8;
            - **from week 7**: out-of-scope requests grow from 3% to 15% by week 12;
            - **from week 8**: a promotion lifts the free plan from 30% to 60% by week 10;
            - **week 10**: auto and commute requests appear at 8%.

            The gold set has no travel or auto-and-commute case, so `recal drift --over weekly` should stay quiet
            for weeks 1–5 and alarm from week 6, naming the travel intents.

            Run it from the repository root: `bash samples/run-sample.sh`.

            ## Files

            | file | what it is |
            |---|---|
            | `recal.yaml`, `taxonomy.yaml`, `policy.yaml` | the project, its 106 intents and 3 cohort dimensions, and the sampling policy |
            | `cases/gold.jsonl` | the eval set: sampled cases, cases from escalations (`bug_report`) and a few retired ones |
            | `cases/shadow.jsonl` | a shadow pool: {CaseGenerator.ShadowSize} cases drawn at random from the last two weeks of traffic |
            | `holdout/seal.json`, `holdout/cases.sealed` | a holdout of {CaseGenerator.HoldoutSize} cases from the same four weeks as gold, sealed at the end of week 4 until a rotation later (AES-256-GCM; see docs/lifecycle.md) |
            | `sample-holdout.key` | the holdout's key: committed **for this demo only**; a real project's key stays with the eval owner |
            | `rubrics/support-answer.yaml`, `prompts/support.md` | the judges' rubric and the bot's system prompt, versioned with the project |
            | `traffic/traffic.jsonl.gz` | twelve weeks of traces with metadata (plan, locale, surface) and feedback; about 10% carry an intent label |
            | `traffic/broken-sample.jsonl` | a few deliberately broken lines, to see the quarantine at work |

            ## Ground truth, week by week (true labels)

            JS distance is the base-2 Jensen–Shannon distance between the gold set's intent distribution and the
            week's traffic, from the true CLINC150 labels; "missing" is the week's traffic share in intents with no
            gold case. `recal drift` sees intents through the classifier, which adds confusion noise on top.

            | week | starts | traces | travel | auto | out-of-scope | free plan | JS distance | missing |
            |---|---|---|---|---|---|---|---|---|

            """);
        foreach (var week in truth)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"| {week.Week} | {Scenario.Start.AddDays(7 * (week.Week - 1)):yyyy-MM-dd} | {week.Traces:N0} | {week.Travel:0.0%} | {week.Auto:0.0%} | {week.OutOfScope:0.0%} | {week.Free:0.0%} | {week.JsDistance:0.000} | {week.MissingShare:0.0%} |\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"""

            ## Regenerating

            From the repository root, with the CLINC150 data beside it:

                dotnet run --project samples/Recal.SampleGenerator -- --data ../shared/data/clinc150 --out samples/clinc150-support --seed {seed}

            The generator is deterministic: the same data and seed give byte-identical files.

            """);
        return text.ToString();
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
