namespace Recal.Storage;

/// <summary>The store's schema is newer than this version of Recal knows (<see cref="StoreException.SchemaMismatch"/>).</summary>
public sealed class StoreVersionException(string message, string path, string hint)
    : StoreException(SchemaMismatch, message, path, hint)
{
}
