package io.tailwire.wire;

import java.nio.ByteBuffer;

/** The file fingerprint of wire-spec.md 6.4: 64-bit FNV-1a over a generation's first bytes (at most 1024). */
public final class Fingerprint {
    /** How many leading bytes a full fingerprint covers. */
    public static final int MAX_BYTES = 1024;
    public static final long OFFSET_BASIS = 0xcbf29ce484222325L;
    public static final long PRIME = 0x100000001b3L;

    private Fingerprint() {
    }

    /** FNV-1a 64 over buf[from, to) (absolute indexes; the buffer's position is not used or moved). */
    public static long of(ByteBuffer buf, int from, int to) {
        long h = OFFSET_BASIS;
        for (int i = from; i < to; i++) {
            h ^= buf.get(i) & 0xff;
            h *= PRIME;
        }
        return h;
    }

    public static long of(byte[] b, int off, int len) {
        return of(ByteBuffer.wrap(b), off, off + len);
    }
}
