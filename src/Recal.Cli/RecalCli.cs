using System.CommandLine;
using System.CommandLine.Parsing;
using Spectre.Console;
using Recal.Cli.Commands;

namespace Recal.Cli;

/// <summary>The <c>recal</c> command line: builds the command tree and runs it.</summary>
public static class RecalCli
{
    /// <summary>The top-level commands in the order help lists them, each built only when asked for.</summary>
    private static readonly (string Name, Func<CliContext, Command> Create)[] Commands =
    [
        ("init", InitCommand.Create),
        ("validate", ValidateCommand.Create),
        ("policy", PolicyCommand.Create),
        ("ingest", IngestCommand.Create),
        ("drift", DriftCommand.Create),
        ("coverage", CoverageCommand.Create),
        ("run", RunCommand.Create),
        ("worker", WorkerCommand.Create),
        ("report", ReportCommand.Create),
        ("sample", SampleCommand.Create),
        ("label", LabelCommand.Create),
        ("holdout", HoldoutCommand.Create),
        ("history", HistoryCommand.Create),
        ("compare-suites", CompareSuitesCommand.Create),
        ("diff", DecisionCommands.Diff),
        ("gate", DecisionCommands.Gate),
        ("regrade", RegradeCommand.Create),
        ("staleness", StalenessCommand.Create),
        ("check", CheckCommand.Create),
        ("store", StoreCommand.Create),
        ("serve", ServeCommand.Create),
        ("status", LifecycleCommands.Status),
        ("retire", LifecycleCommands.Retire),
        ("promote", LifecycleCommands.Promote),
        ("rotate", LifecycleCommands.Rotate),
        ("judge-agreement", JudgeAgreementCommand.Create),
    ];

    /// <summary>Tokens that make System.CommandLine answer from the whole tree (help, the version, directives, response files).</summary>
    private static readonly string[] WholeTreeTokens = ["-h", "--help", "-?", "/?", "/h", "--version"];

    public static RootCommand Build(CliContext context) => Build(context, null);

    /// <summary>
    /// The command tree for <paramref name="args"/>: when the first argument names a command and nothing asks for help,
    /// only that command is built (a process runs one command; building the other 25 is start-up time spent for
    /// nothing), else every command, for help, suggestions of the nearest name and the root's own options.
    /// </summary>
    internal static RootCommand Build(CliContext context, IReadOnlyList<string>? args)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = new RootCommand(
            "Recal keeps an LLM product's eval set calibrated to its live traffic: it measures the gap between the eval set and today's traffic next to the score.");
        root.Options.Add(GlobalOptions.Project);
        var only = OnlyCommand(args);
        foreach (var (name, create) in Commands)
        {
            if (only is null || only == name)
            {
                root.Subcommands.Add(create(context));
            }
        }

        return root;
    }

    /// <summary>The command the arguments name first, when the parse needs no other; null when it needs the whole tree.</summary>
    internal static string? OnlyCommand(IReadOnlyList<string>? args)
    {
        if (args is not { Count: > 0 } || args.Any(a => WholeTreeTokens.Contains(a, StringComparer.Ordinal) || a.StartsWith('@')))
        {
            return null;
        }

        return Array.Exists(Commands, c => c.Name == args[0]) ? args[0] : null;
    }

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        StartupTrace.Mark("context");
        var root = Build(context, args);
        StartupTrace.Mark("built");
        var parsed = root.Parse(args);
        StartupTrace.Mark("parsed");
        var configuration = new InvocationConfiguration
        {
            Output = new ConsoleWriter(context.Out),
            Error = new ConsoleWriter(context.Error),

            // Store failures are caught below and explained; anything else is still a defect with its stack trace.
            EnableDefaultExceptionHandler = false,
        };
        if (parsed.Errors.Count > 0)
        {
            // The errors alone, each once, with the nearest spelling; the whole help would bury them.
            foreach (var line in UsageErrors(parsed))
            {
                context.Error.MarkupLine("[red]error[/]: " + Spectre.Console.Markup.Escape(line));
            }

            var command = parsed.CommandResult.Command;
            var help = command == root ? "recal --help" : $"recal {string.Join(' ', CommandPath(parsed.CommandResult))} --help";
            context.Error.MarkupLine($"Run [blue]{Spectre.Console.Markup.Escape(help)}[/] for the commands and options.");
            return ExitCodes.CannotRun;
        }

        int code;
        try
        {
            code = await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (StoreFailure(e, context) is { } failure)
        {
            // A store that cannot be opened, is full or is damaged: one clear line, never a stack trace.
            ProjectSession.WriteDiagnostics(context.Error, [failure.ToDiagnostic()]);
            return ExitCodes.CannotRun;
        }
        catch (Project.WorkspaceException e)
        {
            // Another writer holds the project, or a crash left a journal that cannot be read.
            ProjectSession.WriteDiagnostics(context.Error, [e.Diagnostic]);
            return ExitCodes.CannotRun;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            context.Error.Profile.Out.Writer.WriteLine($"Unhandled exception: {e}");
            return 1;
        }

        return code;
    }

    /// <summary>
    /// The parse errors as one line each. A mistyped command or option names the nearest one; the follow-on
    /// "Required command was not provided." that System.CommandLine adds for a mistyped command is left out.
    /// </summary>
    internal static IReadOnlyList<string> UsageErrors(ParseResult parsed)
    {
        const string Unrecognized = "Unrecognized command or argument '";
        var command = parsed.CommandResult.Command;
        var lines = new List<string>();
        var mistyped = false;
        foreach (var error in parsed.Errors)
        {
            var parts = error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var first = parts[0];
            if (first.StartsWith(Unrecognized, StringComparison.Ordinal) && first.EndsWith("'.", StringComparison.Ordinal))
            {
                var token = first[Unrecognized.Length..^2];
                var isOption = token.StartsWith('-');
                var names = isOption
                    ? command.Options.Concat(parsed.RootCommandResult.Command.Options.Where(o => o.Recursive)).SelectMany(o => o.Aliases.Prepend(o.Name))
                    : command.Subcommands.Select(c => c.Name);
                var nearest = Recal.Text.Spelling.Nearest(token, names);
                mistyped |= !isOption && command.Subcommands.Count > 0;
                var what = isOption ? "an option of" : command.Subcommands.Count > 0 ? "a command of" : "an argument of";
                var name = $"'{string.Join(' ', CommandPath(parsed.CommandResult).Prepend("recal"))}'";
                lines.Add($"'{token}' is not {what} {name}{(nearest is null ? string.Empty : $"; did you mean '{nearest}'?")}");
                continue;
            }

            lines.Add(first.EndsWith("Must be one of:", StringComparison.Ordinal) ? $"{first} {string.Join(", ", parts.Skip(1))}" : string.Join(' ', parts));
        }

        var required = lines.IndexOf("Required command was not provided.");
        if (required >= 0 && mistyped)
        {
            lines.RemoveAt(required);
        }
        else if (required >= 0)
        {
            var path = string.Join(' ', CommandPath(parsed.CommandResult).Prepend("recal"));
            lines[required] = $"'{path}' needs a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}";
        }

        return [.. lines.Distinct(StringComparer.Ordinal)];
    }

    private static IEnumerable<string> CommandPath(SymbolResult? result)
    {
        var names = new List<string>();
        for (var r = result; r is CommandResult command && command.Parent is not null; r = r.Parent)
        {
            names.Insert(0, command.Command.Name);
        }

        return names;
    }

    /// <summary>The store failure behind <paramref name="exception"/>, if that is what it is.</summary>
    internal static Storage.StoreException? StoreFailure(Exception exception, CliContext context)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case Storage.StoreException store:
                    return store;
                case var engine when context.Store is { } location && context.Stores.Explain(engine, location) is { } explained:
                    return explained;
            }
        }

        return null;
    }

    /// <summary>Routes System.CommandLine's help and error text through the Spectre console (so tests capture it).</summary>
    private sealed class ConsoleWriter(Spectre.Console.IAnsiConsole console) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => console.Profile.Out.Writer.Write(value);

        public override void Write(string? value) => console.Profile.Out.Writer.Write(value);

        public override void WriteLine(string? value) => console.Profile.Out.Writer.WriteLine(value);
    }
}
