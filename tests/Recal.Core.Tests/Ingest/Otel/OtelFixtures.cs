namespace Recal.Core.Tests.Ingest.Otel;

/// <summary>The OTLP fixtures (Fixtures/Otel): meai-* from the OpenTelemetry .NET SDK (tests/FixtureProducers/OtelGenAi), the rest from make_spec_fixtures.py.</summary>
internal static class OtelFixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "Otel", name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    public static string[] Lines(string name) => File.ReadAllLines(Path(name));
}
