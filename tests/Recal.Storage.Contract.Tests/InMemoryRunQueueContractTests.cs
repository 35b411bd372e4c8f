using Recal.Testing;

namespace Recal.Storage.Contract.Tests;

/// <summary>The distributed runs' queue contract run against the in-memory store.</summary>
public sealed class InMemoryRunQueueContractTests : RunQueueContract
{
    protected override Task<IRecalStore> OpenEmptyAsync() => Task.FromResult<IRecalStore>(new InMemoryStore());
}
