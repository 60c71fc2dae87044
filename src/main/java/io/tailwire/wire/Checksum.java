package io.tailwire.wire;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * CRC32C over bytes 0..3 and 8..end of a datagram (wire-spec.md section 2). Allocation-free after the
 * first call on a thread: the CRC32C object and a scratch array are per thread, and direct ByteBuffers
 * are read through their own position/limit (restored afterwards) instead of a duplicate.
 */
public final class Checksum {
    private Checksum() {
    }

    private static final class Scratch {
        final CRC32C crc = new CRC32C();
        final byte[] bytes = new byte[512];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** Computes the checksum of the datagram {@code buffer[offset, offset + length)}; length >= 8. */
    public static int compute(DirectBuffer buffer, int offset, int length) {
        Scratch s = SCRATCH.get();
        CRC32C crc = s.crc;
        crc.reset();
        update(s, buffer, offset, Wire.CHECKSUM_OFFSET);
        update(s, buffer, offset + Wire.CONNECTION_ID_OFFSET, length - Wire.CONNECTION_ID_OFFSET);
        return (int) crc.getValue();
    }

    /** Writes the checksum field of a fully encoded datagram. */
    public static void seal(MutableDirectBuffer buffer, int offset, int length) {
        buffer.putInt(offset + Wire.CHECKSUM_OFFSET, compute(buffer, offset, length), Wire.BYTE_ORDER);
    }

    /** True when the stored checksum matches; false also for datagrams too short to hold a header. */
    public static boolean verify(DirectBuffer buffer, int offset, int length) {
        if (length < Wire.HEADER_LENGTH || offset < 0 || (long) offset + length > buffer.capacity()) {
            return false;
        }
        return buffer.getInt(offset + Wire.CHECKSUM_OFFSET, Wire.BYTE_ORDER) == compute(buffer, offset, length);
    }

    private static void update(Scratch s, DirectBuffer buffer, int index, int length) {
        if (length <= 0) {
            return;
        }
        byte[] array = buffer.byteArray();
        if (array != null) {
            s.crc.update(array, buffer.wrapAdjustment() + index, length);
            return;
        }
        ByteBuffer bb = buffer.byteBuffer();
        if (bb != null) {
            int pos = bb.position();
            int lim = bb.limit();
            int start = buffer.wrapAdjustment() + index;
            bb.limit(start + length).position(start);
            s.crc.update(bb);
            bb.limit(lim).position(pos);
            return;
        }
        // Raw address buffer: copy through the scratch array in chunks.
        int done = 0;
        while (done < length) {
            int n = Math.min(s.bytes.length, length - done);
            buffer.getBytes(index + done, s.bytes, 0, n);
            s.crc.update(s.bytes, 0, n);
            done += n;
        }
    }
}
