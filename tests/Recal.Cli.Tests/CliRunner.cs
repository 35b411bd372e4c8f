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

    private static async Task<(int Code, string Out, string Error)> RunAtWidthAsync(int width, CancellationToken cancellationToken, string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(Console(output, width), Console(error, width));
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
