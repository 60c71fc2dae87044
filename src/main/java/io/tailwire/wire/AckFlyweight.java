package io.tailwire.wire;

import static io.tailwire.wire.Wire.BYTE_ORDER;

/**
 * ACK (wire-spec.md section 5). Encoding: {@link #encode} writes the fixed part, then
 * {@link #sackWord(int, long)} and {@link #durableEntry(int, int, long)} fill the variable part, then
 * {@link #seal()} computes the checksum and returns the length.
 */
public final class AckFlyweight extends HeaderFlyweight {
    @Override
    public int validate(int maxDatagram) {
        int rc = super.validate(maxDatagram);
        if (rc == Wire.OK && type() != Wire.TYPE_ACK) {
            return Wire.ERR_TYPE;
        }
        return rc;
    }

    public long cumulative() {
        return buffer.getLong(offset + Wire.ACK_CUMULATIVE_OFFSET, BYTE_ORDER);
    }

    public long echoTimestamp() {
        return buffer.getLong(offset + Wire.ACK_ECHO_TIMESTAMP_OFFSET, BYTE_ORDER);
    }

    public long ackDelay() {
        return buffer.getLong(offset + Wire.ACK_DELAY_OFFSET, BYTE_ORDER);
    }

    /** Window in bytes, u32. */
    public long window() {
        return buffer.getInt(offset + Wire.ACK_WINDOW_OFFSET, BYTE_ORDER) & 0xFFFFFFFFL;
    }

    public int sackWords() {
        return buffer.getShort(offset + Wire.ACK_SACK_WORDS_OFFSET, BYTE_ORDER) & 0xFFFF;
    }

    public int durableCount() {
        return buffer.getShort(offset + Wire.ACK_DURABLE_COUNT_OFFSET, BYTE_ORDER) & 0xFFFF;
    }

    public long sackWord(int w) {
        return buffer.getLong(offset + Wire.ACK_FIXED_LENGTH + 8 * w, BYTE_ORDER);
    }

    /** True when packet {@code pn} is acknowledged by this ACK (cumulatively or by a SACK bit). */
    public boolean acknowledges(long pn) {
        long cum = cumulative();
        if (pn < cum) {
            return true;
        }
        long d = pn - cum - 1;
        if (d < 0 || d >= 64L * sackWords()) {
            return false;
        }
        return (sackWord((int) (d >>> 6)) & (1L << (d & 63))) != 0;
    }

    private int durableBase() {
        return offset + Wire.ACK_FIXED_LENGTH + 8 * sackWords();
    }

    public int durableStreamId(int i) {
        return buffer.getInt(durableBase() + Wire.DURABLE_ENTRY_LENGTH * i, BYTE_ORDER);
    }

    public long durableOffset(int i) {
        return buffer.getLong(durableBase() + Wire.DURABLE_ENTRY_LENGTH * i + 4, BYTE_ORDER);
    }

    /** Writes the fixed part. Counts must be within 0..16 and 0..64; the caller checks capacity. */
    public void encode(long connectionId, long cumulative, long echoTimestamp, long ackDelay, long window,
                       int sackWords, int durableCount) {
        encodeHeader(Wire.TYPE_ACK, connectionId);
        mutableBuffer.putLong(offset + Wire.ACK_CUMULATIVE_OFFSET, cumulative, BYTE_ORDER);
        mutableBuffer.putLong(offset + Wire.ACK_ECHO_TIMESTAMP_OFFSET, echoTimestamp, BYTE_ORDER);
        mutableBuffer.putLong(offset + Wire.ACK_DELAY_OFFSET, ackDelay, BYTE_ORDER);
        mutableBuffer.putInt(offset + Wire.ACK_WINDOW_OFFSET, (int) Math.min(window, 0xFFFFFFFFL), BYTE_ORDER);
        mutableBuffer.putShort(offset + Wire.ACK_SACK_WORDS_OFFSET, (short) sackWords, BYTE_ORDER);
        mutableBuffer.putShort(offset + Wire.ACK_DURABLE_COUNT_OFFSET, (short) durableCount, BYTE_ORDER);
    }

    public void sackWord(int w, long bits) {
        mutableBuffer.putLong(offset + Wire.ACK_FIXED_LENGTH + 8 * w, bits, BYTE_ORDER);
    }

    public void durableEntry(int i, int streamId, long durableOffset) {
        int at = durableBase() + Wire.DURABLE_ENTRY_LENGTH * i;
        mutableBuffer.putInt(at, streamId, BYTE_ORDER);
        mutableBuffer.putLong(at + 4, durableOffset, BYTE_ORDER);
    }

    /** Seals the ACK whose fixed part and entries are written; returns its length. */
    public int seal() {
        return seal(Wire.ACK_FIXED_LENGTH + 8 * sackWords() + Wire.DURABLE_ENTRY_LENGTH * durableCount());
    }
}
