using Spectre.Console;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>Runs the real command tree in-process with captured, colourless output.</summary>
internal static class CliRunner
{
    public static Task<(int Code, string Out, string Error)> RunAsync(params string[] args) =>
        RunAsync(TestContext.Current.CancellationToken, args);

    /// <summary>Runs with a token of the caller's: cancelling it is what Ctrl-C does.</summary>
    public static Task<(int Code, string Out, string Error)> RunAsync(CancellationToken cancellationToken, params string[] args) =>
        RunAtWidthAsync(200, cancellationToken, args);

    /// <summary>Runs with consoles of a given width, as a terminal of that many columns would.</summary>
    public static Task<(int Code, string Out, string Error)> RunAtWidthAsync(int width, params string[] args) =>
        RunAtWidthAsync(width, TestContext.Current.CancellationToken, args);

    /// <summary>Runs as a process with <c>RECAL_LOG_LEVEL</c> set to <paramref name="logLevel"/> would.</summary>
    public static Task<(int Code, string Out, string Error)> RunWithLogLevelAsync(string logLevel, params string[] args) =>
        RunAtWidthAsync(200, TestContext.Current.CancellationToken, args, logLevel);

    private static async Task<(int Code, string Out, string Error)> RunAtWidthAsync(int width, CancellationToken cancellationToken, string[] args, string? logLevel = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var errorConsole = Console(error, width);
        var context = new CliContext(Console(output, width), errorConsole) { Logger = ConsoleLogger.For(logLevel, errorConsole) };
        var code = await RecalCli.RunAsync(args, context, cancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    private static IAnsiConsole Console(TextWriter writer, int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        return console;
    }
}
