using System.CommandLine;
using Recal.Cli.Commands;

namespace Recal.Cli;

/// <summary>The <c>recal</c> command line: builds the command tree and runs it.</summary>
public static class RecalCli
{
    public static RootCommand Build(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = new RootCommand(
            "Recal keeps an LLM product's eval set calibrated to its live traffic: it measures the gap between the eval set and today's traffic next to the score.");
        root.Options.Add(GlobalOptions.Project);
        root.Subcommands.Add(InitCommand.Create(context));
        root.Subcommands.Add(ValidateCommand.Create(context));
        root.Subcommands.Add(PolicyCommand.Create(context));
        root.Subcommands.Add(IngestCommand.Create(context));
        root.Subcommands.Add(DriftCommand.Create(context));
        root.Subcommands.Add(CoverageCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(ReportCommand.Create(context));
        root.Subcommands.Add(SampleCommand.Create(context));
        root.Subcommands.Add(LabelCommand.Create(context));
        root.Subcommands.Add(HoldoutCommand.Create(context));
        root.Subcommands.Add(HistoryCommand.Create(context));
        root.Subcommands.Add(CompareSuitesCommand.Create(context));
        root.Subcommands.Add(DecisionCommands.Diff(context));
        root.Subcommands.Add(DecisionCommands.Gate(context));
        root.Subcommands.Add(RegradeCommand.Create(context));
        root.Subcommands.Add(StalenessCommand.Create(context));
        root.Subcommands.Add(CheckCommand.Create(context));
        root.Subcommands.Add(StoreCommand.Create(context));
        foreach (var lifecycle in LifecycleCommands.Create(context))
        {
            root.Subcommands.Add(lifecycle);
        }

        root.Subcommands.Add(JudgeAgreementCommand.Create(context));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        var root = Build(context);
        var parsed = root.Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = new ConsoleWriter(context.Out),
            Error = new ConsoleWriter(context.Error),

            // Store failures are caught below and explained; anything else is still a defect with its stack trace.
            EnableDefaultExceptionHandler = false,
        };
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
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Cancelled;
        }
        catch (Exception e)
        {
            context.Error.Profile.Out.Writer.WriteLine($"Unhandled exception: {e}");
            return 1;
        }

        return parsed.Errors.Count > 0 ? ExitCodes.CannotRun : code;
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
                case Microsoft.Data.Sqlite.SqliteException sqlite:
                    return Storage.Sqlite.SqliteStore.Explain(sqlite, context.StorePath ?? "the store");
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
