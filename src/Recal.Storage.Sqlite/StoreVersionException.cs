namespace Recal.Storage.Sqlite;

/// <summary>The store's schema is newer than this version of Recal knows.</summary>
public sealed class StoreVersionException(string message) : Exception(message);
