using Recal.Ingest.Otel;

namespace Recal.Ingest;

/// <summary>Turns one payload of a multi-record format into trace parts; never throws on bad input.</summary>
public interface IPayloadParser
{
    PayloadParts Parse(ReadOnlyMemory<byte> payload);
}

/// <summary>OTLP payloads (JSON or protobuf, traces or logs) through the GenAI and OpenInference conventions.</summary>
public sealed class OtlpPayloadParser(bool protobuf, OtelMappingOptions? options = null) : IPayloadParser
{
    public PayloadParts Parse(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        var read = !protobuf ? OtlpJsonReader.Read(span)
            : OtlpProtobufReader.IsLogs(span) ? OtlpProtobufReader.ReadLogs(span)
            : OtlpProtobufReader.ReadTraces(span);
        return OtelInteractions.Build(read, options);
    }
}
