using Recal.Testing;
using Xunit;

namespace Recal.Storage.Postgres.Tests;

/// <summary>The distributed runs' queue contract run against PostgreSQL, on an empty store in the class's throwaway database per test.</summary>
public sealed class PostgresRunQueueContractTests(DatabaseFixture fixture) : RunQueueContract, IClassFixture<DatabaseFixture>
{
    protected override Task<IRecalStore> OpenEmptyAsync() => fixture.OpenEmptyStoreAsync();
}
