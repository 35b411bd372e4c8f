using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Recal.Project;

namespace Recal.Cli.Tests;

/// <summary>
/// A small project in a temporary folder: the starter taxonomy and policy, <c>cases</c> generated gold cases
/// (input <c>question NN</c>, passing when the output contains it) and a <c>bot</c> target at a given URL.
/// </summary>
internal sealed class RunProject : IDisposable
{
    public RunProject(Uri baseUrl, int cases, int concurrency = 2, string extraYaml = "")
    {
        Folder = Path.Combine(Path.GetTempPath(), "recal-runproj-" + Guid.NewGuid().ToString("N")[..12]);
        var problems = ProjectScaffolder.Scaffold(Folder, "demo");
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, problems));
        }

        string[] intents = ["refund", "cancel_subscription", "reset_password"];
        File.WriteAllLines(PathOf("cases/gold.jsonl"), Enumerable.Range(0, cases).Select(i => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = CaseId(i),
            ["input"] = Input(i),
            ["references"] = new[] { new { text = "echo: " + Input(i), grade = "high" } },
            ["assertions"] = new[] { new { type = "contains", value = Input(i) } },
            ["intent"] = intents[i % 3],
            ["cohort"] = new { plan = i % 2 == 0 ? "free" : "pro" },
            ["difficulty"] = "easy",
            ["provenance"] = new { kind = "manual" },
            ["added"] = "2026-01-05",
            ["valid_until"] = null,
            ["pool"] = "gold",
            ["tags"] = Array.Empty<string>(),
        })));
        File.AppendAllText(PathOf("recal.yaml"), $"""

            run:
              concurrency: {concurrency.ToString(CultureInfo.InvariantCulture)}
              retries: 1
              timeout: 30s
            targets:
              bot:
                type: openai
                base_url: {baseUrl}
                model: bot
            {extraYaml}
            """);
    }

    public string Folder { get; }

    public string StorePath => PathOf(".recal/recal.db");

    public static string CaseId(int i) => $"case-{i:00}";

    public static string Input(int i) => $"question {i:00}";

    public string PathOf(string relative) => Path.Combine(Folder, relative);

    /// <summary>The stored case ids per run, read through a read-only connection (safe while a run writes).</summary>
    public IReadOnlyList<(string RunId, string CaseId)> StoredResults()
    {
        if (!File.Exists(StorePath))
        {
            return [];
        }

        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = StorePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT run_id, case_id FROM run_cases ORDER BY run_id, case_id";
            using var reader = command.ExecuteReader();
            var rows = new List<(string, string)>();
            while (reader.Read())
            {
                rows.Add((reader.GetString(0), reader.GetString(1)));
            }

            return rows;
        }
        catch (SqliteException)
        {
            // The store is still being created (no table yet) or busy: nothing to count this time.
            return [];
        }
    }

    /// <summary>A run's status as stored.</summary>
    public string? RunStatus(string runId)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = StorePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT status FROM runs WHERE id = $id";
        command.Parameters.AddWithValue("$id", runId);
        return command.ExecuteScalar() as string;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
