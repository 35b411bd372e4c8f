using Recal.Ingest.Otel;

namespace Recal.Ingest;

/// <summary>Turns one payload of a multi-record format into trace parts; never throws on bad input.</summary>
public interface IPayloadParser
{
    PayloadParts Parse(ReadOnlyMemory<byte> payload);
}

/// <summary>OTLP payloads (JSON or protobuf, traces or logs) through the GenAI and OpenInference conventions.</summary>
/// <param name="signal">For protobuf, the message a payload is (a receiver knows it from the endpoint); by default detected from the body.</param>
public sealed class OtlpPayloadParser(bool protobuf, OtelMappingOptions? options = null, OtlpSignal signal = OtlpSignal.Detect) : IPayloadParser
{
    public PayloadParts Parse(ReadOnlyMemory<byte> payload)
    {
        var span = payload.Span;
        var logs = signal == OtlpSignal.Logs || (signal == OtlpSignal.Detect && protobuf && OtlpProtobufReader.IsLogs(span));
        var read = !protobuf ? OtlpJsonReader.Read(span)
            : logs ? OtlpProtobufReader.ReadLogs(span)
            : OtlpProtobufReader.ReadTraces(span);
        return OtelInteractions.Build(read, options);
    }
}
