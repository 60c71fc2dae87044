package io.tailwire.wire;

import static io.tailwire.wire.Wire.BYTE_ORDER;

import org.agrona.DirectBuffer;

/** DATA (wire-spec.md section 4). Read fields only after {@link #validate(int)} returned OK. */
public final class DataFlyweight extends HeaderFlyweight {
    @Override
    public int validate(int maxDatagram) {
        int rc = super.validate(maxDatagram);
        if (rc == Wire.OK && type() != Wire.TYPE_DATA) {
            return Wire.ERR_TYPE;
        }
        return rc;
    }

    public long packetNumber() {
        return buffer.getLong(offset + Wire.DATA_PACKET_NUMBER_OFFSET, BYTE_ORDER);
    }

    public long timestamp() {
        return buffer.getLong(offset + Wire.DATA_TIMESTAMP_OFFSET, BYTE_ORDER);
    }

    public int streamId() {
        return buffer.getInt(offset + Wire.DATA_STREAM_ID_OFFSET, BYTE_ORDER);
    }

    public int payloadLength() {
        return buffer.getInt(offset + Wire.DATA_LENGTH_OFFSET, BYTE_ORDER);
    }

    public long streamOffset() {
        return buffer.getLong(offset + Wire.DATA_STREAM_OFFSET_OFFSET, BYTE_ORDER);
    }

    /** Index of the first payload byte in {@link #buffer()}. */
    public int payloadIndex() {
        return offset + Wire.DATA_HEADER_LENGTH;
    }

    /**
     * Encodes a whole DATA datagram into the wrapped buffer (wrapForEncode) and seals it. Returns the
     * datagram length. The caller guarantees capacity >= 48 + length.
     */
    public int encode(long connectionId, long packetNumber, long timestamp, int streamId, long streamOffset,
                      DirectBuffer src, int srcIndex, int payloadLength) {
        encodeHeader(Wire.TYPE_DATA, connectionId);
        mutableBuffer.putLong(offset + Wire.DATA_PACKET_NUMBER_OFFSET, packetNumber, BYTE_ORDER);
        mutableBuffer.putLong(offset + Wire.DATA_TIMESTAMP_OFFSET, timestamp, BYTE_ORDER);
        mutableBuffer.putInt(offset + Wire.DATA_STREAM_ID_OFFSET, streamId, BYTE_ORDER);
        mutableBuffer.putInt(offset + Wire.DATA_LENGTH_OFFSET, payloadLength, BYTE_ORDER);
        mutableBuffer.putLong(offset + Wire.DATA_STREAM_OFFSET_OFFSET, streamOffset, BYTE_ORDER);
        mutableBuffer.putBytes(offset + Wire.DATA_HEADER_LENGTH, src, srcIndex, payloadLength);
        return seal(Wire.DATA_HEADER_LENGTH + payloadLength);
    }
}
