package io.tailwire.server;

/** 64-bit FNV-1a, the file fingerprint of wire-spec.md 6.4. */
public final class Fnv1a {
    public static final long OFFSET_BASIS = 0xcbf29ce484222325L;
    public static final long PRIME = 0x100000001b3L;

    private Fnv1a() {
    }

    public static long hash(byte[] b, int off, int len) {
        long h = OFFSET_BASIS;
        for (int i = off; i < off + len; i++) {
            h ^= b[i] & 0xFF;
            h *= PRIME;
        }
        return h;
    }
}
