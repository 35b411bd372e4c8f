using Recal.Testing;
using Xunit;

namespace Recal.Storage.Postgres.Tests;

/// <summary>The store contract run against PostgreSQL, on an empty store in the class's throwaway database per test.</summary>
public sealed class PostgresStoreContractTests(DatabaseFixture fixture) : StoreContract, IClassFixture<DatabaseFixture>
{
    protected override async Task<IRecalStore> OpenEmptyAsync()
    {
        var database = await fixture.EmptyAsync(TestContext.Current.CancellationToken);
        return await PostgresStore.OpenAsync(database.ConnectionString, "postgres://test/" + database.Name, TestContext.Current.CancellationToken);
    }
}
