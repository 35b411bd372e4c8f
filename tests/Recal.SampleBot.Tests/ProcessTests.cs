using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Xunit;

namespace Recal.SampleBot.Tests;

/// <summary>The bot as a separate process, the way benchmarks and the sample script start it.</summary>
public sealed class ProcessTests
{
    [Fact]
    public async Task Writes_its_url_to_the_port_file_serves_and_exits_cleanly_on_sigterm()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "SIGTERM is a Unix signal");
        var cancellation = TestContext.Current.CancellationToken;
        var folder = Directory.CreateTempSubdirectory("recal-samplebot-");
        var portFile = Path.Combine(folder.FullName, "bot.url");

        // Given the bot started on a free port with a port file
        using var process = Process.Start(BotProcess("--project", RepositoryPaths.SampleProject, "--port-file", portFile, "--latency-ms", "10"))!;
        try
        {
            var stdout = process.StandardOutput.ReadLineAsync(cancellation).AsTask();
            var stderr = process.StandardError.ReadToEndAsync(cancellation);
            var waited = Stopwatch.StartNew();
            while (!File.Exists(portFile) && !process.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(50, cancellation);
            }

            File.Exists(portFile).Should().BeTrue(process.HasExited ? await stderr : "the bot did not start in time");
            var url = await File.ReadAllTextAsync(portFile, cancellation);

            // When it is called, then sent SIGTERM
            url.Should().MatchRegex(@"^http://127\.0\.0\.1:\d+/v1$");
            (await stdout).Should().Be(url);
            using (var client = new HttpClient())
            {
                var models = await client.GetStringAsync(url + "/models", cancellation);
                models.Should().Contain("support-bot-v1");
            }

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(cancellation);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);

            // Then it exits with 0, logged nothing, and removed its port file
            process.ExitCode.Should().Be(0);
            (await stderr).Should().BeEmpty();
            File.Exists(portFile).Should().BeFalse();
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Bad_command_line_exits_with_2_and_the_usage()
    {
        // When the bot is started without a project
        using var process = Process.Start(BotProcess("--port", "0"))!;
        var stderr = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        // Then it says what is missing and how to call it
        process.ExitCode.Should().Be(2);
        stderr.Should().Contain("--project DIR is required").And.Contain("Usage: Recal.SampleBot");
    }

    private static ProcessStartInfo BotProcess(params string[] args)
    {
        // The bot's build output is copied beside the tests through the project reference.
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Recal.SampleBot.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
