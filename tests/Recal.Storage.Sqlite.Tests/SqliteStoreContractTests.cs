using Recal.Testing;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>The store contract run against SQLite, on a fresh file per test.</summary>
public sealed class SqliteStoreContractTests : StoreContract, IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    protected override async Task<IRecalStore> OpenEmptyAsync() => await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
}
