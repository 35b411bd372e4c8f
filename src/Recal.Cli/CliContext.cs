using Spectre.Console;

namespace Recal.Cli;

/// <summary>Where a command writes: results to <see cref="Out"/>, diagnostics and progress to <see cref="Error"/>.</summary>
public sealed record CliContext(IAnsiConsole Out, IAnsiConsole Error)
{
    /// <summary>The line width used when output goes to a file or pipe.</summary>
    public const int RedirectedWidth = 160;

    /// <summary>The store the command opened, so a store failure anywhere in it can say which file failed.</summary>
    public string? StorePath { get; set; }

    /// <summary>The process's consoles; colour only on a terminal, and never when NO_COLOR is set.</summary>
    public static CliContext ForProcess()
    {
        var noColour = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        IAnsiConsole Create(TextWriter writer, bool redirected)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(writer),
                Ansi = redirected || noColour ? AnsiSupport.No : AnsiSupport.Detect,
                ColorSystem = redirected || noColour ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
                Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            });
            if (redirected)
            {
                // Logs and CI output have no terminal width; wide enough that tables never wrap names.
                console.Profile.Width = RedirectedWidth;
            }

            return console;
        }
        return new CliContext(Create(Console.Out, Console.IsOutputRedirected), Create(Console.Error, Console.IsErrorRedirected));
    }
}
