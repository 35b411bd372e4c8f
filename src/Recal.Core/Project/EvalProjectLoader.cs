using Recal.Diagnostics;
using Recal.Domain;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Recal.Project;

/// <summary>Reads and validates an eval project folder (docs/project-format.md).</summary>
public static class EvalProjectLoader
{
    public const string ProjectFile = "recal.yaml";

    public static ProjectLoadResult Load(string projectDirectory)
    {
        ArgumentNullException.ThrowIfNull(projectDirectory);
        var diagnostics = new DiagnosticBag();
        var root = Path.GetFullPath(projectDirectory);
        var projectPath = Path.Combine(root, ProjectFile);
        if (!File.Exists(projectPath))
        {
            diagnostics.Error("RC1001", $"no {ProjectFile} in {root}", new SourceLocation(projectPath), "run 'recal init' to create a project, or pass --project DIR");
            return new ProjectLoadResult(null, diagnostics.Items);
        }

        var settings = ReadSettings(root, projectPath, diagnostics);
        if (settings is null)
        {
            return new ProjectLoadResult(null, diagnostics.Items);
        }

        var taxonomy = ReadYaml(settings.TaxonomyPath, diagnostics) is { } taxonomyNode
            ? TaxonomyReader.Read(new YamlObject(taxonomyNode, Relative(root, settings.TaxonomyPath), diagnostics))
            : null;
        var policyLocations = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        var policy = ReadYaml(settings.PolicyPath, diagnostics) is { } policyNode
            ? PolicyReader.Read(new YamlObject(policyNode, Relative(root, settings.PolicyPath), diagnostics), policyLocations)
            : null;
        if (taxonomy is null || policy is null)
        {
            return new ProjectLoadResult(null, diagnostics.Items) { Settings = settings };
        }

        PolicyReader.CrossCheck(policy, taxonomy, policyLocations, diagnostics);
        GatesReader.CrossCheck(policy.Gates, taxonomy, policyLocations, diagnostics);
        if (settings.Retention is { } retention && retention.RawTraces < policy.TrafficWindow)
        {
            // Draws and coverage read raw traces: a window longer than they are kept is measured on its newer part only.
            diagnostics.Warning(
                "RC1018",
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"'retention.raw_traces' keeps {retention.RawTraces.TotalDays:0} days of raw traces, fewer than the policy's traffic_window of {policy.TrafficWindow.TotalDays:0.#} days"),
                retention.Location,
                "draws and coverage of the traffic window would see only its newer part: keep raw traces at least as long as the window");
        }

        var cases = new List<EvalCase>();
        foreach (var path in settings.CasePaths)
        {
            cases.AddRange(CaseFileReader.Read(path, Relative(root, path), diagnostics));
        }

        CaseChecks.Run(cases, taxonomy, diagnostics);
        Judging.Rubric? rubric = null;
        if (settings.Judge is { } judge)
        {
            var (loaded, rubricDiagnostics) = Judging.RubricLoader.Load(judge.RubricPath, Relative(root, judge.RubricPath));
            diagnostics.AddRange(rubricDiagnostics);
            rubric = loaded;
        }

        Lifecycle.SealRecord? seal = null;
        try
        {
            seal = Lifecycle.HoldoutSeal.ReadRecord(root);
        }
        catch (System.Text.Json.JsonException e)
        {
            diagnostics.Error("RC1701", $"the seal record is not valid JSON: {e.Message}", new SourceLocation(Relative(root, Lifecycle.HoldoutSeal.RecordPath(root))), "restore it from version control: without it the sealed holdout cannot be opened");
        }

        return new ProjectLoadResult(new EvalProject(root, settings, taxonomy, policy, cases) { Rubric = rubric, Seal = seal }, diagnostics.Items);
    }

    /// <summary>How deeply YAML mappings and lists may nest; deeper files are refused before they are built (RC1012).</summary>
    public const int MaxYamlDepth = 64;

    /// <summary>
    /// Parses a YAML file whose top level must be a mapping; syntax errors, bytes that are not UTF-8 and nesting
    /// deeper than <see cref="MaxYamlDepth"/> become located diagnostics.
    /// </summary>
    internal static YamlMappingNode? ReadYaml(string path, DiagnosticBag diagnostics)
    {
        if (!File.Exists(path))
        {
            diagnostics.Error("RC1001", "file not found", new SourceLocation(path), "check the path in recal.yaml");
            return null;
        }

        if (ReadUtf8(path, diagnostics) is not { } text)
        {
            return null;
        }

        try
        {
            // Building the node tree recurses once per level: check the depth on the flat event stream first, so
            // a file of 100,000 nested lists is an error, not a stack overflow.
            var parser = new Parser(new StringReader(text));
            var depth = 0;
            while (parser.MoveNext())
            {
                if (parser.Current is MappingStart or SequenceStart && ++depth > MaxYamlDepth)
                {
                    diagnostics.Error("RC1012", $"the YAML nests more than {MaxYamlDepth} levels deep", new SourceLocation(path, (int)parser.Current.Start.Line, (int)parser.Current.Start.Column), "project files need a few levels; check for a runaway [ or {, or an indentation error");
                    return null;
                }

                if (parser.Current is MappingEnd or SequenceEnd)
                {
                    depth--;
                }
            }

            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                diagnostics.Error("RC1002", "the file must hold a YAML mapping (key: value lines)", new SourceLocation(path, 1, 1));
                return null;
            }

            return mapping;
        }
        catch (YamlException e)
        {
            diagnostics.Error("RC1002", $"YAML syntax error: {e.InnerException?.Message ?? e.Message}", new SourceLocation(path, (int)e.Start.Line, (int)e.Start.Column));
            return null;
        }
        catch (InvalidOperationException)
        {
            // The YAML scanner gives up without a position on some unterminated flow collections.
            diagnostics.Error("RC1002", "YAML syntax error: an unterminated [list] or {mapping}", new SourceLocation(path), "check that every [ and { is closed on its line");
            return null;
        }
    }

    /// <summary>The file as text, or null with a located RC1011 when a byte is not UTF-8 (a decoder would hide it).</summary>
    private static string? ReadUtf8(string path, DiagnosticBag diagnostics)
    {
        var bytes = File.ReadAllBytes(path);
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return System.Text.Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF');
        }

        var bad = 0;
        while (System.Text.Rune.DecodeFromUtf8(bytes.AsSpan(bad), out _, out var consumed) == System.Buffers.OperationStatus.Done)
        {
            bad += consumed;
        }

        var lineStart = bytes.AsSpan(0, bad).LastIndexOf((byte)'\n') + 1;
        var line = bytes.AsSpan(0, bad).Count((byte)'\n') + 1;
        diagnostics.Error("RC1011", "the file is not valid UTF-8", new SourceLocation(path, line, CaseFileReader.FirstInvalidColumn(bytes.AsSpan(lineStart, bad - lineStart + 1))), "save it as UTF-8 (a byte order mark is allowed)");
        return null;
    }

    private static ProjectSettings? ReadSettings(string root, string projectPath, DiagnosticBag diagnostics)
    {
        if (ReadYaml(projectPath, diagnostics) is not { } node)
        {
            return null;
        }

        var yaml = new YamlObject(node, ProjectFile, diagnostics);
        var version = yaml.Int("version", required: true, min: 1);
        if (version > EvalProject.CurrentFormatVersion)
        {
            diagnostics.Error("RC1008", $"project format version {version} is newer than this Recal reads ({EvalProject.CurrentFormatVersion})", yaml.At(yaml.Get("version")!), "upgrade Recal");
        }

        var name = yaml.String("name") ?? Path.GetFileName(root);
        var store = ReadStore(yaml, root);
        var taxonomy = yaml.String("taxonomy") ?? "taxonomy.yaml";
        var policy = yaml.String("policy") ?? "policy.yaml";
        var caseNode = yaml.Get("cases");
        var caseSpecs = caseNode is null ? ["cases"] : yaml.Strings("cases");
        var run = RunSettingsReader.ReadRun(yaml.Object("run"));
        var targets = RunSettingsReader.ReadTargets(yaml.Object("targets"), root);
        var judge = RunSettingsReader.ReadJudge(yaml.Object("judge"), root);
        var embeddings = RunSettingsReader.ReadEmbeddings(yaml.Object("embeddings"));
        var ingest = IngestSettingsReader.Read(yaml.Object("ingest"));
        var retention = RunSettingsReader.ReadRetention(yaml.Object("retention"));
        var (secretVariables, secretLiterals) = SecretSources.Read(node);
        yaml.RejectUnknownKeys();

        var casePaths = new List<string>();
        foreach (var spec in caseSpecs)
        {
            var full = Path.GetFullPath(Path.Combine(root, spec));
            if (Directory.Exists(full))
            {
                casePaths.AddRange(Directory.EnumerateFiles(full, "*.jsonl", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            }
            else if (File.Exists(full))
            {
                casePaths.Add(full);
            }
            else
            {
                diagnostics.Error("RC1001", $"cases path '{spec}' does not exist", yaml.At(caseNode ?? node), "name a folder of .jsonl case files or a .jsonl file");
            }
        }

        return new ProjectSettings(
            version ?? EvalProject.CurrentFormatVersion,
            name,
            store.IsFile ? store.Target : Path.GetFullPath(Path.Combine(root, Storage.StoreLocation.DefaultPath)),
            Path.GetFullPath(Path.Combine(root, taxonomy)),
            Path.GetFullPath(Path.Combine(root, policy)),
            casePaths)
        {
            Targets = targets,
            Judge = judge,
            Run = run,
            Embeddings = embeddings,
            Ingest = ingest,
            Retention = retention,
            Store = store,
            SecretVariables = secretVariables,
            SecretLiterals = secretLiterals,
        };
    }

    /// <summary>
    /// The <c>store:</c> setting: a path or a URI, <c>${VAR}</c> expanded (a password belongs in a variable). Which
    /// schemes open is the host's to say (its store providers), not the loader's.
    /// </summary>
    private static Storage.StoreLocation ReadStore(YamlObject yaml, string root)
    {
        if (yaml.String("store") is not { } written)
        {
            return Storage.StoreLocation.ForFile(Path.Combine(root, Storage.StoreLocation.DefaultPath));
        }

        var at = yaml.At(yaml.Get("store")!);
        var missing = new List<string>();
        var expanded = RunSettingsReader.Expand(written, missing);
        if (missing.Count > 0)
        {
            yaml.Diagnostics.Error("RC1504", $"'store' names the environment variable {missing[0]}, which is not set", at, $"set {missing[0]}, or give a default: ${{{missing[0]}:-...}}");
        }

        if (expanded.Trim().Length == 0)
        {
            yaml.Diagnostics.Error("RC1006", "'store' is empty", at, $"a path (default {Storage.StoreLocation.DefaultPath}) or a URI such as sqlite:.recal/recal.db");
            return Storage.StoreLocation.ForFile(Path.Combine(root, Storage.StoreLocation.DefaultPath), at);
        }

        return Storage.StoreLocation.Parse(expanded, root, at);
    }

    internal static string Relative(string root, string path) => Path.GetRelativePath(root, path);
}
