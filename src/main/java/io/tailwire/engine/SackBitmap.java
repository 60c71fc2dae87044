package io.tailwire.engine;

import io.tailwire.wire.Wire;

/**
 * Receiver-side packet tracker: the cumulative point and a 1024-bit ring of packets received above it
 * (wire-spec.md sections 4 and 5). Packet {@code cumulative} itself is always missing.
 */
public final class SackBitmap {
    public static final int RANGE = Wire.SACK_RANGE;
    private static final int MASK = RANGE - 1;
    private final long[] ring = new long[RANGE / 64];
    private long cumulative;

    /** Results of {@link #mark(long)}. */
    public static final int NEW = 0;
    public static final int DUPLICATE = 1;
    public static final int BELOW = 2;
    public static final int BEYOND = 3;

    public long cumulative() {
        return cumulative;
    }

    public boolean contains(long pn) {
        if (pn < cumulative) {
            return true;
        }
        if (pn >= cumulative + RANGE) {
            return false;
        }
        int i = (int) (pn & MASK);
        return (ring[i >>> 6] & (1L << (i & 63))) != 0;
    }

    /** Records packet {@code pn}: NEW, DUPLICATE, BELOW (under cumulative) or BEYOND (out of range). */
    public int mark(long pn) {
        if (pn < cumulative) {
            return BELOW;
        }
        if (pn >= cumulative + RANGE) {
            return BEYOND;
        }
        int i = (int) (pn & MASK);
        long bit = 1L << (i & 63);
        if ((ring[i >>> 6] & bit) != 0) {
            return DUPLICATE;
        }
        ring[i >>> 6] |= bit;
        while (true) {
            int c = (int) (cumulative & MASK);
            long cb = 1L << (c & 63);
            if ((ring[c >>> 6] & cb) == 0) {
                break;
            }
            ring[c >>> 6] &= ~cb;
            cumulative++;
        }
        return NEW;
    }

    /** True when something above cumulative was received (so there is a gap at cumulative). */
    public boolean hasGap() {
        for (long w : ring) {
            if (w != 0) {
                return true;
            }
        }
        return false;
    }

    /** SACK word {@code w}: bit i set when packet cumulative + 1 + 64 w + i was received. */
    public long word(int w) {
        int start = (int) ((cumulative + 1 + 64L * w) & MASK);
        int idx = start >>> 6;
        int sh = start & 63;
        long lo = ring[idx] >>> sh;
        if (sh == 0) {
            return lo;
        }
        return lo | (ring[(idx + 1) & (ring.length - 1)] << (64 - sh));
    }

    /** Number of words an ACK needs: up to the last non-zero one. */
    public int wordCount() {
        int n = 0;
        for (int w = 0; w < ring.length; w++) {
            if (word(w) != 0) {
                n = w + 1;
            }
        }
        return n;
    }
}
