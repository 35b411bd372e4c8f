using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recal.Storage;

namespace Recal.Server.Retention;

/// <summary>
/// Applies the project's <c>retention:</c> setting (docs/store.md#retention-of-raw-traces): once when the server starts
/// and then every <see cref="Domain.RetentionSettings.Every"/>, the raw traces older than <c>raw_traces</c> are pruned
/// through the receiver's store, in the store's bounded steps, so the receiver's batches take turns with them. A prune
/// that fails is logged and tried again at the next round; a stop ends it between two steps.
/// </summary>
internal sealed class RetentionService(RecalServerContext context, ILogger<RetentionService>? logger) : BackgroundService
{
    /// <summary>The last round's result (null before the first has finished): what the health page could show.</summary>
    public PruneSummary? Last { get; private set; }

    /// <summary>Rounds finished since the server started.</summary>
    public int Rounds => Volatile.Read(ref _rounds);

    private int _rounds;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (context.Retention is not { } retention)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var cutoff = retention.CutoffAt(context.Time.GetUtcNow());
                Last = await context.Store.PruneTracesAsync(cutoff, cancellationToken: stoppingToken).ConfigureAwait(false);
                if (Last.Traces > 0)
                {
                    logger?.LogInformation("retention: pruned {Traces} raw traces of {Days} day(s) before {Cutoff:yyyy-MM-dd}", Last.Traces, Last.Days, cutoff);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The receiver goes on; what was committed stays pruned and the next round prunes the rest.
                logger?.LogWarning("retention: the prune failed and is tried again in {Every} ({Type}: {Message})", retention.Every, e.GetType().Name, e.Message);
            }

            Interlocked.Increment(ref _rounds);
            try
            {
                await Task.Delay(retention.Every, context.Time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>Registers the retention service.</summary>
internal static class RetentionServices
{
    public static IServiceCollection AddRetention(this IServiceCollection services)
    {
        services.AddSingleton<RetentionService>();
        services.AddHostedService(provider => provider.GetRequiredService<RetentionService>());
        return services;
    }
}
