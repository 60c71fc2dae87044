package io.tailwire.wire;

import static io.tailwire.wire.Wire.BYTE_ORDER;

/** PING (wire-spec.md section 7.4): header plus an 8-byte timestamp echoed by the ACK it elicits. */
public final class PingFlyweight extends HeaderFlyweight {
    @Override
    public int validate(int maxDatagram) {
        int rc = super.validate(maxDatagram);
        if (rc == Wire.OK && type() != Wire.TYPE_PING) {
            return Wire.ERR_TYPE;
        }
        return rc;
    }

    public long timestamp() {
        return buffer.getLong(offset + Wire.PING_TIMESTAMP_OFFSET, BYTE_ORDER);
    }

    /** Encodes and seals a PING; returns 24. */
    public int encode(long connectionId, long timestamp) {
        encodeHeader(Wire.TYPE_PING, connectionId);
        mutableBuffer.putLong(offset + Wire.PING_TIMESTAMP_OFFSET, timestamp, BYTE_ORDER);
        return seal(Wire.PING_LENGTH);
    }
}
