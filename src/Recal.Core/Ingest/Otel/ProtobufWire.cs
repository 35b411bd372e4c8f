using System.Buffers.Binary;

namespace Recal.Ingest.Otel;

/// <summary>A protobuf body that is not well formed: truncated, a bad varint, tag or wire type, nesting too deep.</summary>
internal sealed class MalformedProtobufException(string message) : Exception(message);

/// <summary>
/// A forward cursor over one protobuf message's wire format (varint tags, length-delimited fields, fixed32/fixed64),
/// with the checks and limits <c>Google.Protobuf</c>'s parser applies: field number 0, wire types 6 and 7, an end-group
/// tag outside its group, a length past the end and more than <see cref="MaxDepth"/> nested messages are malformed.
/// </summary>
internal ref struct ProtobufWire(ReadOnlySpan<byte> message)
{
    /// <summary>Google.Protobuf's default recursion limit: messages (and groups) nested deeper are rejected.</summary>
    public const int MaxDepth = 100;

    public const int Varint = 0;
    public const int Fixed64 = 1;
    public const int Length = 2;
    public const int StartGroup = 3;
    public const int EndGroup = 4;
    public const int Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _bytes = message;
    private int _position;

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next(out int field, out int wire)
    {
        if (_position >= _bytes.Length)
        {
            field = wire = 0;
            return false;
        }

        // Tags are read as 32-bit varints, as Google.Protobuf does (upper bits of a longer varint are dropped).
        var tag = (uint)ReadVarint();
        field = (int)(tag >> 3);
        wire = (int)(tag & 7);
        if (field == 0)
        {
            throw new MalformedProtobufException($"a field has number 0 (at byte {_position})");
        }

        if (wire == EndGroup)
        {
            throw new MalformedProtobufException($"an end-group tag of field {field} without its start (at byte {_position})");
        }

        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _bytes.Length)
            {
                throw Truncated();
            }

            var b = _bytes[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new MalformedProtobufException($"a varint is longer than 10 bytes (at byte {_position})");
    }

    public ulong ReadFixed64()
    {
        if (_bytes.Length - _position < 8)
        {
            throw Truncated();
        }

        var value = BinaryPrimitives.ReadUInt64LittleEndian(_bytes[_position..]);
        _position += 8;
        return value;
    }

    /// <summary>The bytes of a length-delimited field (a string, bytes or a sub-message).</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        // A length is a 32-bit varint: one that is negative as an int is malformed, as Google.Protobuf says.
        var length = (int)(uint)ReadVarint();
        if (length < 0)
        {
            throw new MalformedProtobufException($"a length is negative (at byte {_position})");
        }

        if (length > _bytes.Length - _position)
        {
            throw Truncated();
        }

        var bytes = _bytes.Slice(_position, length);
        _position += length;
        return bytes;
    }

    /// <summary>Skips the value of a field this reader does not use (unknown fields, known ones with another wire type).</summary>
    public void Skip(int field, int wire, int depth)
    {
        switch (wire)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Advance(8);
                break;
            case Length:
                ReadBytes();
                break;
            case Fixed32:
                Advance(4);
                break;
            case StartGroup:
                SkipGroup(field, Enter(depth));
                break;
            default:
                throw new MalformedProtobufException($"field {field} has wire type {wire}, which does not exist (at byte {_position})");
        }
    }

    /// <summary>The depth of a message nested in one at <paramref name="depth"/>; too deep is malformed.</summary>
    public static int Enter(int depth) =>
        depth < MaxDepth ? depth + 1 : throw new MalformedProtobufException($"messages are nested more than {MaxDepth} deep");

    private void SkipGroup(int number, int depth)
    {
        while (_position < _bytes.Length)
        {
            var tag = (uint)ReadVarint();
            var field = (int)(tag >> 3);
            var wire = (int)(tag & 7);
            if (field == 0)
            {
                throw new MalformedProtobufException($"a field has number 0 (at byte {_position})");
            }

            if (wire == EndGroup)
            {
                if (field != number)
                {
                    throw new MalformedProtobufException($"group {number} ends with the end-group tag of field {field} (at byte {_position})");
                }

                return;
            }

            Skip(field, wire, depth);
        }

        throw Truncated();
    }

    private void Advance(int count)
    {
        if (_bytes.Length - _position < count)
        {
            throw Truncated();
        }

        _position += count;
    }

    private readonly MalformedProtobufException Truncated() => new($"the message ends inside a field (its {_bytes.Length} bytes are not enough)");
}
