namespace Recal.Storage.Sqlite;

/// <summary>The store's schema is newer than this version of Recal knows.</summary>
public sealed class StoreVersionException(string message, string path, string hint)
    : StoreException(SchemaMismatchCode, message, path, hint)
{
    private const string SchemaMismatchCode = "RC3003";
}
