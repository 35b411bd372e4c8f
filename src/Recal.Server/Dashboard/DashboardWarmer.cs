using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Recal.Server.Dashboard;

/// <summary>
/// Computes the heavy views (health, the timeline, the current mix, coverage) when the server starts and again when
/// the store's state changes, so a reader's first request finds them ready. Under traffic that never stops it waits
/// at least <see cref="DashboardService.MinimumAge"/>, and four times as long as the last computation took, between
/// two rounds, so the views never take more than about a fifth of the machine.
/// </summary>
internal sealed class DashboardWarmer(DashboardService service, ILogger<DashboardWarmer>? logger) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Before the server takes requests: the project loaded and the views an earlier server kept over this store read
    /// back, so the first request right after a start serves them (stale, with a note, if the store changed since).
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (service.Context.ProjectRoot is not null && service.Project().Project is not null)
        {
            try
            {
                await DashboardEndpoints.LoadKeptAsync(service, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                // Kept views are an optimisation: without them the first requests compute (and show any store error).
                logger?.LogDebug(e, "the kept dashboard views were not read ({Type})", e.GetType().Name);
            }
        }

        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (service.Context.ProjectRoot is null)
        {
            return;
        }

        var warmed = string.Empty;
        var next = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var state = await service.StateAsync(stoppingToken).ConfigureAwait(false);
                if (state != warmed && DateTimeOffset.UtcNow >= next && service.Project().Project is { } project)
                {
                    var started = DateTimeOffset.UtcNow;
                    await DashboardEndpoints.WarmAsync(service, project, state).ConfigureAwait(false);
                    var took = DateTimeOffset.UtcNow - started;
                    warmed = state;
                    next = DateTimeOffset.UtcNow + (took * 4 > DashboardService.MinimumAge ? took * 4 : DashboardService.MinimumAge);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A view that cannot be computed now (no traffic yet, a store error) is computed on request, which shows the problem.
                logger?.LogDebug(e, "the dashboard's views were not computed ahead ({Type})", e.GetType().Name);
                warmed = string.Empty;
                next = DateTimeOffset.UtcNow + DashboardService.MinimumAge;
            }

            try
            {
                await Task.Delay(Poll, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
