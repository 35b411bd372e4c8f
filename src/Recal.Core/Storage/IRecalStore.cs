namespace Recal.Storage;

/// <summary>
/// The store behind every stage: every role in one (callers that need one role take it alone). Implementations are
/// safe to kill at any point: a batch is stored whole or not at all. Every implementation passes the store contract
/// suite (<c>tests/Recal.Testing/StoreContract</c>, docs/store.md).
/// </summary>
public interface IRecalStore : ITraceStore, ITraceRetention, IIngestLog, IRunStore, IArtifactStore, IEmbeddingStore, IStoreHealth, IAsyncDisposable
{
}
