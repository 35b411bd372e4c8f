using Recal.Domain;
using FluentAssertions;
using Recal.Running;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

public sealed class RunLeaseTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_run_is_held_by_one_claim_at_a_time_until_it_is_released()
    {
        // Given a stored run claimed by one process
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);
        await store.CreateRunAsync(new RunInfo("r1", "demo", "bot", "{}", "suite", PoolSet.Parse("gold"), 3, null, DateTimeOffset.UtcNow, null, RunStatus.Running), Token);
        var (first, _) = await RunLease.AcquireAsync(store, "r1", cancellationToken: Token);

        // When another claim comes while it holds the run, and again after it released it
        var (second, heldBy) = await RunLease.AcquireAsync(store, "r1", cancellationToken: Token);
        await first!.DisposeAsync();
        var (third, _) = await RunLease.AcquireAsync(store, "r1", cancellationToken: Token);

        // Then the second is refused with the holder's name, and the third is granted
        second.Should().BeNull();
        heldBy!.Owner.Should().Be(first.Owner).And.StartWith(Environment.MachineName + ":" + Environment.ProcessId + ":");
        heldBy.Until.Should().BeAfter(DateTimeOffset.UtcNow);
        third.Should().NotBeNull();
        await third!.DisposeAsync();
    }

    [Fact]
    public async Task An_expired_lease_or_one_of_a_process_that_ended_is_taken_over()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);
        await store.CreateRunAsync(new RunInfo("r1", "demo", "bot", "{}", "suite", PoolSet.Parse("gold"), 3, null, DateTimeOffset.UtcNow, null, RunStatus.Running), Token);
        await store.CreateRunAsync(new RunInfo("r2", "demo", "bot", "{}", "suite", PoolSet.Parse("gold"), 3, null, DateTimeOffset.UtcNow, null, RunStatus.Running), Token);
        var now = DateTimeOffset.UtcNow;
        (await store.ClaimRunAsync("r1", "elsewhere:1:aaaaaa", now.AddMinutes(-5), now.AddMinutes(-4), cancellationToken: Token)).Should().BeNull();
        (await store.ClaimRunAsync("r2", $"{Environment.MachineName}:{int.MaxValue}:bbbbbb", now, now.AddMinutes(5), cancellationToken: Token)).Should().BeNull();

        var (expired, _) = await RunLease.AcquireAsync(store, "r1", cancellationToken: Token);
        var (ended, _) = await RunLease.AcquireAsync(store, "r2", cancellationToken: Token);

        expired.Should().NotBeNull();
        ended.Should().NotBeNull();
        await expired!.DisposeAsync();
        await ended!.DisposeAsync();
    }
}
