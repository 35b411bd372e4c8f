using System.Globalization;
using System.Text;
using FluentAssertions;
using Google.Protobuf;
using Recal.Ingest.Otel;
using Recal.Ingest.Otel.Proto;
using Xunit;
using ProtoStatus = Recal.Ingest.Otel.Proto.Status;

namespace Recal.Core.Tests.Ingest.Otel;

/// <summary>
/// The forward trace reader (<see cref="OtlpProtobufReader.ReadTraces"/>) against the generated-class path
/// (<see cref="OtlpProtobufReader.ReadTracesFromMessages"/>): the same spans, events, links, attributes and problems.
/// </summary>
public sealed class OtlpProtobufForwardReaderTests
{
    public static TheoryData<string> Fixtures() => ["meai-default.pb", "meai-latest.pb", "otel-older.pb", "meai-default.otlp", "meai-latest.otlp", "otel-older.otlp"];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_request_of_the_SDK_captures_reads_as_the_generated_classes_read_it(string fixture)
    {
        var bodies = Bodies(fixture);
        bodies.Should().NotBeEmpty();
        foreach (var body in bodies)
        {
            var forward = OtlpProtobufReader.ReadTraces(body);
            forward.Spans.Should().NotBeEmpty();
            Describe(forward).Should().Be(Describe(Reference(body)));
        }
    }

    [Fact]
    public void Randomized_requests_read_as_the_generated_classes_read_them()
    {
        // Given requests built with the generated classes, with unknown fields, known fields of other wire types,
        // fields repeated on the wire (merged), every AnyValue kind nested, bad ids and missing times
        var random = new Random(20261207);
        for (var n = 0; n < 400; n++)
        {
            var body = RandomRequest(random);

            // When both paths read the body, then they agree (and the body is valid protobuf)
            var expected = Reference(body);
            expected.Problems.Should().NotContain(p => p.Code == "RC2001", "request {0} is valid protobuf", n);
            Describe(OtlpProtobufReader.ReadTraces(body)).Should().Be(Describe(expected), "request {0}", n);
        }
    }

    [Theory]
    [InlineData("meai-default.pb")]
    [InlineData("otel-older.pb")]
    public void A_body_cut_at_any_byte_is_one_problem_unless_the_cut_falls_between_whole_fields(string fixture)
    {
        var body = OtelFixtures.Bytes(fixture);
        var malformed = 0;
        for (var length = 0; length < body.Length; length++)
        {
            var cut = body[..length];
            var forward = OtlpProtobufReader.ReadTraces(cut);
            Describe(forward).Should().Be(Describe(Reference(cut)), "cut at {0}", length);
            if (forward.Problems.Any(p => p.Code == "RC2001"))
            {
                forward.Problems.Should().ContainSingle().Which.Place.Should().Be(OtlpPayload.Whole);
                forward.Spans.Should().BeEmpty();
                malformed++;
            }
        }

        // A cut is valid protobuf only at the end of a top-level resource_spans field (and at 0).
        malformed.Should().BeGreaterThan(body.Length - 5);
    }

    [Fact]
    public void Corrupted_bytes_are_one_problem_or_read_as_the_generated_classes_read_them()
    {
        var random = new Random(7);
        var original = OtelFixtures.Bytes("meai-default.pb");
        for (var n = 0; n < 2000; n++)
        {
            var body = (byte[])original.Clone();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                body[random.Next(body.Length)] = (byte)random.Next(256);
            }

            Describe(OtlpProtobufReader.ReadTraces(body)).Should().Be(Describe(Reference(body)), "corruption {0}", n);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x08, 0x96, 0x01 }, "trace_id (bytes) as a varint is an unknown field: skipped")]
    [InlineData(new byte[] { 0x0D, 1, 2, 3, 4 }, "trace_id as a fixed32 is an unknown field: skipped")]
    [InlineData(new byte[] { 0x3A, 0x01, 0x05 }, "start_time_unix_nano (fixed64) as bytes is an unknown field: skipped")]
    [InlineData(new byte[] { 0x0E }, "wire type 6 does not exist")]
    [InlineData(new byte[] { 0x0F }, "wire type 7 does not exist")]
    [InlineData(new byte[] { 0x0C }, "an end-group tag without its group")]
    [InlineData(new byte[] { 0x00 }, "field number 0")]
    public void Wrong_wire_types_are_skipped_or_one_problem_as_protobuf_says(byte[] field, string because)
    {
        // Given a span with one more field in front
        var span = new Span { TraceId = Id(16, 1), SpanId = Id(8, 2), Name = "chat", StartTimeUnixNano = 5 }.ToByteArray();
        var body = Field(1, Field(2, Field(2, [.. field, .. span])));

        var forward = OtlpProtobufReader.ReadTraces(body);
        Describe(forward).Should().Be(Describe(Reference(body)), because);
        if (field.Length > 1)
        {
            forward.Problems.Should().BeEmpty(because);
            forward.Spans.Should().ContainSingle(s => s.Name == "chat" && s.StartUnixNano == 5, because);
        }
        else
        {
            forward.Problems.Should().ContainSingle(p => p.Code == "RC2001", because);
        }
    }

    [Fact]
    public void A_string_that_is_not_UTF8_is_one_problem_as_Google_Protobuf_makes_it()
    {
        var span = new Span { TraceId = Id(16, 1), SpanId = Id(8, 2), Name = "chat", StartTimeUnixNano = 5 }.ToByteArray();
        var name = Array.IndexOf(span, (byte)'c');
        span[name] = 0xC3;
        span[name + 1] = 0x28;

        var body = Field(1, Field(2, Field(2, span)));
        OtlpProtobufReader.ReadTraces(body).Problems.Should().ContainSingle(p => p.Code == "RC2001");
        Describe(OtlpProtobufReader.ReadTraces(body)).Should().Be(Describe(Reference(body)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Values_nested_near_the_recursion_limit_read_as_the_generated_classes_read_them(bool inResource)
    {
        // request → resource spans → scope spans → span → key value → any value → (array → any value) × k, perhaps
        // one key-value list more (three messages: the other parity); or the same under the resource, one level less
        var valid = new HashSet<bool>();
        for (var k = 40; k <= 50; k++)
        {
            foreach (var kvlist in new[] { false, true })
            {
                var value = new AnyValue { IntValue = 1 };
                if (kvlist)
                {
                    value = new AnyValue { KvlistValue = new KeyValueList { Values = { new KeyValue { Key = "in", Value = value } } } };
                }

                for (var level = 0; level < k; level++)
                {
                    value = new AnyValue { ArrayValue = new ArrayValue { Values = { value } } };
                }

                var deep = new KeyValue { Key = "deep", Value = value };
                var span = new Span { TraceId = Id(16, 1), SpanId = Id(8, 2), StartTimeUnixNano = 5 };
                var resource = new Resource();
                (inResource ? resource.Attributes : span.Attributes).Add(deep);
                var body = new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = resource, ScopeSpans = { new ScopeSpans { Spans = { span } } } } } }.ToByteArray();

                var forward = OtlpProtobufReader.ReadTraces(body);
                Describe(forward).Should().Be(Describe(Reference(body)), "{0} arrays deep{1}", k, kvlist ? " in a list" : string.Empty);
                valid.Add(forward.Problems.Count == 0);
            }
        }

        valid.Should().BeEquivalentTo([true, false], "the limit of 100 nested messages falls within the range");
    }

    [Fact]
    public void Unknown_groups_are_skipped_and_an_unclosed_one_is_one_problem()
    {
        // Given a request with an unknown field 2 that is a group (with a varint and an empty group 4 in it)
        var span = new Span { TraceId = Id(16, 1), SpanId = Id(8, 2), Name = "chat", StartTimeUnixNano = 5 }.ToByteArray();
        var request = Field(1, Field(2, Field(2, span)));
        byte[] group = [0x13, 0x18, 0x01, 0x23, 0x24, 0x14];

        var body = (byte[])[.. request, .. group];
        OtlpProtobufReader.ReadTraces(body).Spans.Should().ContainSingle(s => s.Name == "chat");
        Describe(OtlpProtobufReader.ReadTraces(body)).Should().Be(Describe(Reference(body)));

        foreach (var bad in new[] { group[..^1], [.. group[..^1], 0x1C], group[..4] })
        {
            body = [.. request, .. bad];
            OtlpProtobufReader.ReadTraces(body).Problems.Should().ContainSingle(p => p.Code == "RC2001");
            Describe(OtlpProtobufReader.ReadTraces(body)).Should().Be(Describe(Reference(body)));
        }
    }

    /// <summary>The generated-class path (Google.Protobuf's parser): the reference.</summary>
    private static OtlpPayload Reference(byte[] body) => OtlpProtobufReader.ReadTracesFromMessages(body);

    private static List<byte[]> Bodies(string fixture) =>
        fixture.EndsWith(".otlp", StringComparison.Ordinal) ? [.. OtlpReadingTests.LengthPrefixed(OtelFixtures.Bytes(fixture))] : [OtelFixtures.Bytes(fixture)];

    /// <summary>Everything a payload holds, with the types of values; an RC2001 problem without its message (the parsers word it differently).</summary>
    private static string Describe(OtlpPayload payload)
    {
        var text = new StringBuilder();
        foreach (var p in payload.Problems)
        {
            text.Append(p.Code).Append('|').Append(p.Place).Append('|').Append(p.Code == "RC2001" ? string.Empty : p.Reason).Append('\n');
        }

        foreach (var s in payload.Spans)
        {
            text.Append($"span {s.TraceId} {s.SpanId} {s.ParentSpanId ?? "-"} '{s.Name}' {s.StartUnixNano}-{s.EndUnixNano} @{s.Place}\n  attributes ");
            Map(text, s.Attributes);
            text.Append("\n  resource ");
            Map(text, s.Resource);
            foreach (var e in s.Events)
            {
                text.Append($"\n  event '{e.Name}' {e.TimeUnixNano} ");
                Map(text, e.Attributes);
                text.Append(e.Body is null ? string.Empty : "body!");
            }

            foreach (var l in s.Links)
            {
                text.Append($"\n  link {l.TraceId} {l.SpanId} ");
                Map(text, l.Attributes);
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static void Map(StringBuilder text, IReadOnlyDictionary<string, object?> map)
    {
        text.Append('{');
        foreach (var (key, value) in map)
        {
            text.Append('"').Append(key).Append("\"=");
            Value(text, value);
            text.Append(',');
        }

        text.Append('}');
    }

    private static void Value(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                break;
            case string s:
                text.Append("s\"").Append(s).Append('"');
                break;
            case bool b:
                text.Append(b ? "true" : "false");
                break;
            case long l:
                text.Append("i").Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                text.Append("d").Append(BitConverter.DoubleToInt64Bits(d).ToString("x", CultureInfo.InvariantCulture));
                break;
            case byte[] bytes:
                text.Append("b").Append(Convert.ToHexString(bytes));
                break;
            case object?[] items:
                text.Append('[');
                foreach (var item in items)
                {
                    Value(text, item);
                    text.Append(',');
                }

                text.Append(']');
                break;
            case IReadOnlyDictionary<string, object?> map:
                Map(text, map);
                break;
            default:
                throw new InvalidOperationException($"unexpected attribute value type {value.GetType()}");
        }
    }

    private static ByteString Id(int length, byte fill) => ByteString.CopyFrom(Enumerable.Repeat(fill, length).ToArray());

    /// <summary>A length-delimited field: its tag, its length and its bytes.</summary>
    private static byte[] Field(int number, byte[] bytes)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
        output.Flush();
        return buffer.ToArray();
    }

    private static byte[] RandomRequest(Random random)
    {
        var body = new List<byte>();
        for (var r = random.Next(0, 4); r > 0; r--)
        {
            var resourceSpans = new List<byte>();
            var scopes = random.Next(0, 4);
            var resourceAt = random.Next(0, scopes + 1);
            for (var s = 0; s <= scopes; s++)
            {
                if (s == resourceAt && random.Next(5) > 0)
                {
                    // The resource anywhere among the scopes, sometimes twice (its attributes merge).
                    for (var k = random.Next(1, 3); k > 0; k--)
                    {
                        var resource = new Resource { DroppedAttributesCount = (uint)random.Next(3) };
                        resource.Attributes.Add(RandomKeyValues(random, 3));
                        resourceSpans.AddRange(Field(1, WithExtras(random, resource.ToByteArray(), 3)));
                    }
                }

                if (s < scopes)
                {
                    resourceSpans.AddRange(Field(2, RandomScope(random)));
                }
            }

            if (random.Next(3) == 0)
            {
                resourceSpans.AddRange(Field(3, Encoding.UTF8.GetBytes("https://opentelemetry.io/schemas/1.26.0")));
            }

            body.AddRange(Field(1, WithExtras(random, [.. resourceSpans], 4)));
        }

        return [.. WithExtras(random, [.. body], 2)];
    }

    private static byte[] RandomScope(Random random)
    {
        var scope = new ScopeSpans { SchemaUrl = random.Next(2) == 0 ? string.Empty : "https://example.org/s" };
        if (random.Next(2) == 0)
        {
            scope.Scope = new InstrumentationScope { Name = "Experimental.Microsoft.Extensions.AI", Version = "9.5.0", Attributes = { RandomKeyValues(random, 2) } };
        }

        var bytes = new List<byte>(scope.ToByteArray());
        for (var i = random.Next(0, 5); i > 0; i--)
        {
            var span = RandomSpan(random).ToByteArray();

            // Sometimes a span's fields come in two parts (a merge: the later name and times win, attributes append).
            var merged = random.Next(6) == 0 ? [.. span, .. RandomSpan(random).ToByteArray()] : span;
            bytes.AddRange(Field(2, WithSpanExtras(random, merged)));
        }

        return WithExtras(random, [.. bytes], 4);
    }

    private static Span RandomSpan(Random random)
    {
        var span = new Span
        {
            TraceId = RandomId(random, 16),
            SpanId = RandomId(random, 8),
            ParentSpanId = random.Next(3) == 0 ? ByteString.Empty : RandomId(random, 8),
            TraceState = random.Next(4) == 0 ? "vendor=1" : string.Empty,
            Name = RandomText(random),
            Kind = (Span.Types.SpanKind)random.Next(6),
            StartTimeUnixNano = random.Next(12) switch
            {
                0 => 0,
                1 => ulong.MaxValue - (ulong)random.Next(100),
                2 => (ulong)long.MaxValue,
                _ => 1_780_300_800_000_000_000UL + (ulong)random.Next(1_000_000),
            },
            EndTimeUnixNano = random.Next(8) switch
            {
                0 => 0,
                1 => ulong.MaxValue,
                _ => 1_780_300_900_000_000_000UL + (ulong)random.Next(1_000_000),
            },
            Flags = (uint)random.Next(0x300),
            DroppedAttributesCount = (uint)random.Next(2),
        };
        span.Attributes.Add(RandomKeyValues(random, 6));
        for (var e = random.Next(0, 3); e > 0; e--)
        {
            span.Events.Add(new Span.Types.Event { Name = RandomText(random), TimeUnixNano = random.Next(6) == 0 ? ulong.MaxValue : (ulong)random.NextInt64(), Attributes = { RandomKeyValues(random, 3) } });
        }

        for (var l = random.Next(0, 3); l > 0; l--)
        {
            span.Links.Add(new Span.Types.Link { TraceId = RandomId(random, 16), SpanId = RandomId(random, 8), TraceState = "a=b", Attributes = { RandomKeyValues(random, 2) }, Flags = 1 });
        }

        if (random.Next(2) == 0)
        {
            span.Status = new ProtoStatus { Code = (ProtoStatus.Types.StatusCode)random.Next(3), Message = RandomText(random) };
        }

        return span;
    }

    /// <summary>An id of the right length mostly; sometimes all zeros, missing or of another length.</summary>
    private static ByteString RandomId(Random random, int length) => random.Next(20) switch
    {
        0 => ByteString.Empty,
        1 => ByteString.CopyFrom(new byte[length]),
        2 => ByteString.CopyFrom(RandomBytes(random, length + 1)),
        3 => ByteString.CopyFrom(RandomBytes(random, length - 1)),
        _ => ByteString.CopyFrom(RandomBytes(random, length)),
    };

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static readonly string[] Keys = ["gen_ai.operation.name", "gen_ai.request.model", "gen_ai.usage.input_tokens", "", "k", "ключ", "gen_ai.input.messages"];

    private static string RandomText(Random random) => random.Next(6) switch
    {
        0 => string.Empty,
        1 => "chat gpt-4o",
        2 => "Grüße → 你好 🙂",
        3 => new string('x', random.Next(40, 200)),
        4 => "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"hi\"}]}]",
        _ => "v" + random.Next(10).ToString(CultureInfo.InvariantCulture),
    };

    private static IEnumerable<KeyValue> RandomKeyValues(Random random, int most)
    {
        var list = new List<KeyValue>();
        for (var k = random.Next(0, most + 1); k > 0; k--)
        {
            var kv = new KeyValue { Key = Keys[random.Next(Keys.Length)] };
            if (random.Next(8) > 0)
            {
                kv.Value = RandomValue(random, 0);
            }

            // Unknown fields inside the key-value and its value survive a parse and are written again.
            list.Add(random.Next(4) == 0 ? KeyValue.Parser.ParseFrom(WithExtras(random, kv.ToByteArray(), 3)) : kv);
        }

        return list;
    }

    private static AnyValue RandomValue(Random random, int depth)
    {
        var value = new AnyValue();
        switch (random.Next(depth > 3 ? 5 : 8))
        {
            case 0:
                value.StringValue = RandomText(random);
                break;
            case 1:
                value.BoolValue = random.Next(2) == 0;
                break;
            case 2:
                value.IntValue = random.Next(3) == 0 ? long.MinValue + random.Next(5) : random.NextInt64(-1000, 1000);
                break;
            case 3:
                value.DoubleValue = random.Next(5) switch { 0 => double.NaN, 1 => -0.0, 2 => double.PositiveInfinity, _ => random.NextDouble() * 1e6 };
                break;
            case 4:
                break;
            case 5:
                value.ArrayValue = new ArrayValue();
                for (var k = random.Next(0, 4); k > 0; k--)
                {
                    value.ArrayValue.Values.Add(RandomValue(random, depth + 1));
                }

                break;
            case 6:
                value.KvlistValue = new KeyValueList();
                for (var k = random.Next(0, 4); k > 0; k--)
                {
                    value.KvlistValue.Values.Add(new KeyValue { Key = Keys[random.Next(Keys.Length)], Value = RandomValue(random, depth + 1) });
                }

                break;
            default:
                value.BytesValue = ByteString.CopyFrom(RandomBytes(random, random.Next(0, 20)));
                break;
        }

        return random.Next(5) == 0 ? AnyValue.Parser.ParseFrom(WithExtras(random, value.ToByteArray(), 8)) : value;
    }

    /// <summary>
    /// A span's bytes with, sometimes, more on the wire: a key-value whose value comes twice (merged into one AnyValue),
    /// the name again (the last wins), a known field with another wire type and unknown fields.
    /// </summary>
    private static byte[] WithSpanExtras(Random random, byte[] span)
    {
        var bytes = new List<byte>(span);
        if (random.Next(4) == 0)
        {
            var first = new KeyValue { Key = "merged", Value = RandomValue(random, 2) }.ToByteArray();
            var second = new KeyValue { Value = RandomValue(random, 2) }.ToByteArray();
            bytes.AddRange(Field(9, [.. first, .. second]));
        }

        if (random.Next(6) == 0)
        {
            bytes.AddRange(Field(5, Encoding.UTF8.GetBytes("renamed")));
        }

        if (random.Next(6) == 0)
        {
            // Field 1 (trace_id) as a varint, field 7 (start time) as a varint, field 9 (attributes) as a fixed32.
            bytes.AddRange(new byte[] { 0x08, 0x96, 0x01, 0x38, 0x05, 0x4D, 1, 2, 3, 4 });
        }

        return WithExtras(random, [.. bytes], 17);
    }

    /// <summary>The bytes with unknown fields (numbers from <paramref name="firstUnknown"/>) of every wire type, groups among them.</summary>
    private static byte[] WithExtras(Random random, byte[] message, int firstUnknown)
    {
        if (random.Next(3) > 0)
        {
            return message;
        }

        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        for (var k = random.Next(1, 4); k > 0; k--)
        {
            var number = firstUnknown + random.Next(0, 30);
            switch (random.Next(5))
            {
                case 0:
                    output.WriteTag(number, WireFormat.WireType.Varint);
                    output.WriteUInt64((ulong)random.NextInt64());
                    break;
                case 1:
                    output.WriteTag(number, WireFormat.WireType.Fixed64);
                    output.WriteFixed64((ulong)random.NextInt64());
                    break;
                case 2:
                    output.WriteTag(number, WireFormat.WireType.Fixed32);
                    output.WriteFixed32((uint)random.Next());
                    break;
                case 3:
                    output.WriteTag(number, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(RandomBytes(random, random.Next(0, 12))));
                    break;
                default:
                    output.WriteTag(number, WireFormat.WireType.StartGroup);
                    output.WriteTag(number + 1, WireFormat.WireType.Varint);
                    output.WriteUInt32(7);
                    output.WriteTag(number, WireFormat.WireType.EndGroup);
                    break;
            }
        }

        output.Flush();
        var extras = buffer.ToArray();
        return random.Next(2) == 0 ? [.. message, .. extras] : [.. extras, .. message];
    }
}
