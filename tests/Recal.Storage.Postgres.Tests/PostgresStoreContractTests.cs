using Recal.Testing;
using Xunit;

namespace Recal.Storage.Postgres.Tests;

/// <summary>The store contract run against PostgreSQL, on an empty store in the class's throwaway database per test.</summary>
public sealed class PostgresStoreContractTests(DatabaseFixture fixture) : StoreContract, IClassFixture<DatabaseFixture>
{
    protected override Task<IRecalStore> OpenEmptyAsync() => fixture.OpenEmptyStoreAsync();
}
