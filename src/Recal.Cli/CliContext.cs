using Spectre.Console;

namespace Recal.Cli;

/// <summary>Where a command writes: results to <see cref="Out"/>, diagnostics and progress to <see cref="Error"/>.</summary>
public sealed record CliContext(IAnsiConsole Out, IAnsiConsole Error)
{
    /// <summary>The line width used when output goes to a file or pipe and COLUMNS is not set: a fixed layout for scripts.</summary>
    public const int RedirectedWidth = 160;

    /// <summary>The width COLUMNS asks for (40 columns at least), if any: it overrides the terminal's and the fixed width.</summary>
    public static int? RequestedWidth(string? columns) =>
        int.TryParse(columns, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var width) && width >= 40 ? Math.Min(width, 1000) : null;

    /// <summary>The store the command opened, so a store failure anywhere in it can say which store failed.</summary>
    public Storage.StoreLocation? Store { get; set; }

    /// <summary>The store providers by scheme (the <c>store:</c> setting): the host's, built once.</summary>
    public Storage.StoreProviders Stores { get; init; } = DefaultStores;

    /// <summary>Where ingests and runs log (<c>RECAL_LOG_LEVEL</c>); nothing by default, so the output is unchanged.</summary>
    public Microsoft.Extensions.Logging.ILogger Logger { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>The providers this Recal ships: SQLite (a plain path, <c>sqlite:</c>) and PostgreSQL (<c>postgres://</c>, <c>postgresql://</c>).</summary>
    public static Storage.StoreProviders DefaultStores { get; } = new([new Storage.Sqlite.SqliteStoreProvider(), new Storage.Postgres.PostgresStoreProvider()]);

    /// <summary>The process's consoles; colour only on a terminal, and never when NO_COLOR is set.</summary>
    public static CliContext ForProcess()
    {
        var noColour = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var requested = RequestedWidth(Environment.GetEnvironmentVariable("COLUMNS"));
        IAnsiConsole Create(TextWriter writer, bool redirected)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(writer),
                Ansi = redirected || noColour ? AnsiSupport.No : AnsiSupport.Detect,
                ColorSystem = redirected || noColour ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
                Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            });
            if (requested is { } width)
            {
                console.Profile.Width = width;
            }
            else if (redirected)
            {
                // Logs and CI output have no terminal width: a fixed one, so the same data gives the same layout.
                console.Profile.Width = RedirectedWidth;
            }

            return console;
        }
        var error = Create(Console.Error, Console.IsErrorRedirected);
        return new CliContext(Create(Console.Out, Console.IsOutputRedirected), error)
        {
            Logger = ConsoleLogger.For(Environment.GetEnvironmentVariable(ConsoleLogger.LevelVariable), error),
        };
    }
}
