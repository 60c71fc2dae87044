package io.tailwire.wire;

import static io.tailwire.wire.Wire.BYTE_ORDER;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The 16-byte common header over an Agrona buffer (wire-spec.md section 2), and the base of the
 * fixed-layout flyweights. Wrap for reading with {@link #wrap(DirectBuffer, int, int)} and call
 * {@link #validate(int)} before reading any field past the header; wrap for writing with
 * {@link #wrapForEncode(MutableDirectBuffer, int, int)}. Nothing here allocates or throws on garbage.
 */
public class HeaderFlyweight {
    protected DirectBuffer buffer;
    protected MutableDirectBuffer mutableBuffer;
    protected int offset;
    protected int length;

    public HeaderFlyweight wrap(DirectBuffer buffer, int offset, int length) {
        this.buffer = buffer;
        this.mutableBuffer = null;
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** Wraps {@code capacity} writable bytes; encode methods set the real length. */
    public HeaderFlyweight wrapForEncode(MutableDirectBuffer buffer, int offset, int capacity) {
        this.buffer = buffer;
        this.mutableBuffer = buffer;
        this.offset = offset;
        this.length = capacity;
        return this;
    }

    public DirectBuffer buffer() {
        return buffer;
    }

    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    public int version() {
        return buffer.getByte(offset + Wire.VERSION_OFFSET) & 0xFF;
    }

    public int type() {
        return buffer.getByte(offset + Wire.TYPE_OFFSET) & 0xFF;
    }

    public int flags() {
        return buffer.getShort(offset + Wire.FLAGS_OFFSET, BYTE_ORDER) & 0xFFFF;
    }

    public int checksum() {
        return buffer.getInt(offset + Wire.CHECKSUM_OFFSET, BYTE_ORDER);
    }

    public long connectionId() {
        return buffer.getLong(offset + Wire.CONNECTION_ID_OFFSET, BYTE_ORDER);
    }

    /**
     * Checks everything wire-spec.md demands of a datagram before its fields are used: minimum and
     * maximum length, checksum, version, known type, no AUTH flag, and the exact length of the
     * fixed-layout types. Returns {@link Wire#OK} or a negative {@code Wire.ERR_*} code.
     */
    public int validate(int maxDatagram) {
        if (buffer == null || length < Wire.HEADER_LENGTH || offset < 0
            || (long) offset + length > buffer.capacity()) {
            return Wire.ERR_TOO_SHORT;
        }
        if (length > maxDatagram) {
            return Wire.ERR_TOO_LONG;
        }
        if (!Checksum.verify(buffer, offset, length)) {
            return Wire.ERR_CHECKSUM;
        }
        if (version() != Wire.VERSION) {
            return Wire.ERR_VERSION;
        }
        int type = type();
        if (!Wire.isKnownType(type)) {
            return Wire.ERR_TYPE;
        }
        if ((flags() & Wire.FLAG_AUTH) != 0) {
            return Wire.ERR_FLAGS;
        }
        return validateLayout(type);
    }

    /** {@link #validate(int)} with the largest datagram UDP allows. */
    public int validate() {
        return validate(Wire.MAX_MAX_DATAGRAM);
    }

    private int validateLayout(int type) {
        switch (type) {
            case Wire.TYPE_DATA: {
                if (length < Wire.DATA_HEADER_LENGTH) {
                    return Wire.ERR_LENGTH;
                }
                long payload = buffer.getInt(offset + Wire.DATA_LENGTH_OFFSET, BYTE_ORDER) & 0xFFFFFFFFL;
                if (payload < 1 || Wire.DATA_HEADER_LENGTH + payload != length) {
                    return Wire.ERR_LENGTH;
                }
                if (buffer.getLong(offset + Wire.DATA_PACKET_NUMBER_OFFSET, BYTE_ORDER) < 0
                    || buffer.getLong(offset + Wire.DATA_STREAM_OFFSET_OFFSET, BYTE_ORDER) < 0) {
                    return Wire.ERR_BODY; // u64 values beyond 2^63 cannot occur in a real stream
                }
                return Wire.OK;
            }
            case Wire.TYPE_ACK: {
                if (length < Wire.ACK_FIXED_LENGTH) {
                    return Wire.ERR_LENGTH;
                }
                int words = buffer.getShort(offset + Wire.ACK_SACK_WORDS_OFFSET, BYTE_ORDER) & 0xFFFF;
                int durable = buffer.getShort(offset + Wire.ACK_DURABLE_COUNT_OFFSET, BYTE_ORDER) & 0xFFFF;
                if (words > Wire.MAX_SACK_WORDS || durable > Wire.MAX_DURABLE_ENTRIES) {
                    return Wire.ERR_LENGTH;
                }
                if (Wire.ACK_FIXED_LENGTH + 8 * words + Wire.DURABLE_ENTRY_LENGTH * durable != length) {
                    return Wire.ERR_LENGTH;
                }
                if (buffer.getLong(offset + Wire.ACK_CUMULATIVE_OFFSET, BYTE_ORDER) < 0) {
                    return Wire.ERR_BODY;
                }
                return Wire.OK;
            }
            case Wire.TYPE_PING:
                return length == Wire.PING_LENGTH ? Wire.OK : Wire.ERR_LENGTH;
            case Wire.TYPE_RESET:
                return length == Wire.RESET_LENGTH ? Wire.OK : Wire.ERR_LENGTH;
            default:
                return Wire.OK; // control messages: the protobuf body is checked by ControlCodec
        }
    }

    /** Writes version, type, zero flags, zero checksum and the connection id. */
    public void encodeHeader(int type, long connectionId) {
        writeHeader(mutableBuffer, offset, type, connectionId);
    }

    public static void writeHeader(MutableDirectBuffer buffer, int offset, int type, long connectionId) {
        buffer.putByte(offset + Wire.VERSION_OFFSET, (byte) Wire.VERSION);
        buffer.putByte(offset + Wire.TYPE_OFFSET, (byte) type);
        buffer.putShort(offset + Wire.FLAGS_OFFSET, (short) 0, BYTE_ORDER);
        buffer.putInt(offset + Wire.CHECKSUM_OFFSET, 0, BYTE_ORDER);
        buffer.putLong(offset + Wire.CONNECTION_ID_OFFSET, connectionId, BYTE_ORDER);
    }

    /** Sets the datagram length after encoding and writes the checksum; returns the length. */
    protected int seal(int totalLength) {
        this.length = totalLength;
        Checksum.seal(mutableBuffer, offset, totalLength);
        return totalLength;
    }

    /** Encodes a RESET (header alone) for {@code connectionId}; returns its length, 16. */
    public static int encodeReset(MutableDirectBuffer buffer, int offset, long connectionId) {
        writeHeader(buffer, offset, Wire.TYPE_RESET, connectionId);
        Checksum.seal(buffer, offset, Wire.RESET_LENGTH);
        return Wire.RESET_LENGTH;
    }
}
