using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Polly;
using Recal.Domain;

namespace Recal.Running;

/// <summary>
/// A local program speaking JSON lines, started once and kept alive across cases. Recal writes one request per
/// line to its stdin, <c>{"id": "...", "input": "...", "messages": [...]}</c>, and reads one reply per line from
/// its stdout, <c>{"id": "...", "output": "..."}</c> or <c>{"id": "...", "error": "..."}</c>; replies may come in
/// any order. A program that exits is started again on the next call; calls in flight when it died are retried.
/// </summary>
public sealed class ProgramTarget(IReadOnlyList<string> command, string workingDirectory, ResiliencePipeline pipeline, CallGuard? guard = null)
    : ITarget, IAsyncDisposable
{
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _pending = new(StringComparer.Ordinal);
    private readonly StringBuilder _stderr = new();
    private Process? _process;
    private long _nextId;

    /// <summary>How many times the program was started (1 when it stayed alive for the whole run).</summary>
    public int Starts { get; private set; }

    private string Name => string.Join(' ', command);

    public async ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        var watch = Stopwatch.StartNew();
        var (text, attempts) = await (guard ?? CallGuard.None).ExecuteAsync(pipeline, t => CallAsync(evalCase, t), Name, cancellationToken).ConfigureAwait(false);
        return new TargetResponse(text, watch.Elapsed, null, null, attempts, null);
    }

    public async ValueTask DisposeAsync()
    {
        var process = _process;
        _process = null;
        if (process is not null)
        {
            try
            {
                process.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }

        _startGate.Dispose();
        _writeGate.Dispose();
    }

    private async Task<string> CallAsync(EvalCase evalCase, CancellationToken cancellationToken)
    {
        var process = await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        var id = Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);
        var reply = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            var line = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["id"] = id,
                ["case_id"] = evalCase.Id,
                ["input"] = evalCase.Input.ClassificationText,
                ["messages"] = evalCase.Input.Messages?.Select(m => new Dictionary<string, string> { ["role"] = m.Role, ["content"] = m.Content }),
            });
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await process.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
                await process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new TargetCallException($"{Name}: the program stopped reading its input ({e.Message}){StderrTail()}", null, null, transient: true, e);
            }
            finally
            {
                _writeGate.Release();
            }

            return await reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task<Process> EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (_process is { HasExited: false } running)
        {
            return running;
        }

        await _startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_process is { HasExited: false } started)
            {
                return started;
            }

            _process?.Dispose();
            var info = new ProcessStartInfo(command[0])
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardOutputEncoding = Encoding.UTF8,
                StandardInputEncoding = new UTF8Encoding(false),
            };
            foreach (var argument in command.Skip(1))
            {
                info.ArgumentList.Add(argument);
            }

            Process process;
            try
            {
                process = Process.Start(info) ?? throw new InvalidOperationException("no process");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                throw new TargetCallException($"{Name}: the program could not be started ({e.Message})", null, null, transient: false, e);
            }

            Starts++;
            _process = process;
            _ = Task.Run(() => ReadRepliesAsync(process), CancellationToken.None);
            _ = Task.Run(() => ReadErrorsAsync(process), CancellationToken.None);
            return process;
        }
        finally
        {
            _startGate.Release();
        }
    }

    private async Task ReadRepliesAsync(Process process)
    {
        var output = process.StandardOutput;
        while (await output.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (!root.TryGetProperty("id", out var idElement) || !_pending.TryGetValue(idElement.ToString(), out var waiter))
                {
                    continue;
                }

                if (root.TryGetProperty("output", out var value) && value.ValueKind == JsonValueKind.String)
                {
                    waiter.TrySetResult(value.GetString()!);
                }
                else
                {
                    var error = root.TryGetProperty("error", out var e) ? e.ToString() : "the reply has no \"output\" string";
                    waiter.TrySetException(new TargetCallException($"{Name}: {error}", null, null, transient: false));
                }
            }
            catch (JsonException)
            {
                // Not a reply line (a stray log line, say): ignored, the request times out or gets its own reply.
            }
        }

        // The program exited: calls still waiting will not get an answer from it; they are retried on a new start.
        foreach (var waiter in _pending.Values)
        {
            waiter.TrySetException(new TargetCallException($"{Name}: the program exited{StderrTail()}", null, null, transient: true));
        }
    }

    private async Task ReadErrorsAsync(Process process)
    {
        while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (_stderr)
            {
                _stderr.AppendLine(line);
                if (_stderr.Length > 4096)
                {
                    _stderr.Remove(0, _stderr.Length - 4096);
                }
            }
        }
    }

    private string StderrTail()
    {
        lock (_stderr)
        {
            var tail = _stderr.ToString().Trim();
            return tail.Length == 0 ? string.Empty : $"; its stderr ends: {tail[Math.Max(0, tail.Length - 300)..]}";
        }
    }
}
