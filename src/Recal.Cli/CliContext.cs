using Spectre.Console;

namespace Recal.Cli;

/// <summary>Where a command writes: results to <see cref="Out"/>, diagnostics and progress to <see cref="Error"/>.</summary>
public sealed record CliContext(IAnsiConsole Out, IAnsiConsole Error)
{
    /// <summary>The process's consoles; colour only on a terminal, and never when NO_COLOR is set.</summary>
    public static CliContext ForProcess()
    {
        var noColour = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        IAnsiConsole Create(TextWriter writer, bool redirected) => AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected || noColour ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected || noColour ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        return new CliContext(Create(Console.Out, Console.IsOutputRedirected), Create(Console.Error, Console.IsErrorRedirected));
    }
}
