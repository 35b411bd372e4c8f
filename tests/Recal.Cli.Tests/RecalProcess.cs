using System.Diagnostics;
using System.Text;
using FluentAssertions;

namespace Recal.Cli.Tests;

/// <summary>The real <c>recal</c> in a child process, for tests that kill it.</summary>
internal static class RecalProcess
{
    /// <summary>
    /// Starts <c>dotnet recal.dll ARGS</c> from the CLI's own build output (same configuration as the tests), collecting
    /// what it prints. The copy next to the tests is not used: this test project also references the ASP.NET sample
    /// bot, so assemblies that framework provides are not copied there, and recal runs on the base runtime only.
    /// </summary>
    public static ChildProcess Start(params string[] args)
    {
        var output = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var root = output;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Recal.slnx")))
        {
            root = root.Parent;
        }

        var recal = Path.Combine(root!.FullName, "src", "Recal.Cli", "bin", output.Parent!.Name, output.Name, "recal.dll");
        File.Exists(recal).Should().BeTrue($"the CLI is built at {recal} before its tests");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(recal);
        foreach (var argument in args)
        {
            info.ArgumentList.Add(argument);
        }

        var child = new ChildProcess(Process.Start(info)!);
        return child;
    }

    public sealed class ChildProcess : IDisposable
    {
        private readonly StringBuilder _output = new();

        public ChildProcess(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }
}
