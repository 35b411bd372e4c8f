using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Recal.Cli;

/// <summary>
/// The CLI's log: one plain line per event on the error console (<c>info: Recal[1002] Ingest of … finished: …</c>),
/// from <see cref="Minimum"/> up. Off unless <c>RECAL_LOG_LEVEL</c> is set (docs/architecture.md#observability).
/// </summary>
public sealed class ConsoleLogger(IAnsiConsole console, LogLevel minimum) : ILogger
{
    /// <summary>The environment variable that turns the log on and names its lowest level.</summary>
    public const string LevelVariable = "RECAL_LOG_LEVEL";

    private readonly Lock _gate = new();

    public LogLevel Minimum => minimum;

    /// <summary>
    /// The logger <c>RECAL_LOG_LEVEL</c> asks for: none when it is unset or <c>none</c>; a level name
    /// (trace, debug, information, warning, error, critical) otherwise. An unknown name is reported and logs nothing.
    /// </summary>
    public static ILogger For(string? level, IAnsiConsole error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (string.IsNullOrWhiteSpace(level))
        {
            return NullLogger.Instance;
        }

        if (!Enum.TryParse<LogLevel>(level.Trim(), ignoreCase: true, out var minimum) || !Enum.IsDefined(minimum) || int.TryParse(level, CultureInfo.InvariantCulture, out _))
        {
            error.MarkupLine($"[yellow]warning[/]: {LevelVariable}={Markup.Escape(level)} is not a log level; use trace, debug, information, warning, error, critical or none. Logging is off.");
            return NullLogger.Instance;
        }

        return minimum == LogLevel.None ? NullLogger.Instance : new ConsoleLogger(error, minimum);
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var line = $"{Abbreviation(logLevel)}: Recal[{eventId.Id}] {formatter(state, exception)}";
        if (exception is not null)
        {
            line += $" ({exception.GetType().Name}: {exception.Message})";
        }

        lock (_gate)
        {
            console.Profile.Out.Writer.WriteLine(line);
        }
    }

    private static string Abbreviation(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };
}
