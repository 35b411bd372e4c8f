using Recal.Testing;

namespace Recal.Storage.Contract.Tests;

/// <summary>The store contract run against the in-memory store: a second store, beside SQLite, that passes it whole.</summary>
public sealed class InMemoryStoreContractTests : StoreContract
{
    protected override Task<IRecalStore> OpenEmptyAsync() => Task.FromResult<IRecalStore>(new InMemoryStore());
}
