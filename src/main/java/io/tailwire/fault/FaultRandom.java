package io.tailwire.fault;

/**
 * The random draws a {@link FaultLane} makes, each tagged with what it decides. The simulator answers them
 * from one seeded stream in the order asked (so its runs replay); udp-chaos answers each purpose from a value
 * drawn up front for the datagram, so changing one probability never shifts the choices of another fault.
 */
public interface FaultRandom {
    /** What a draw decides. */
    enum Draw { LOSS, BURST_STATE, BURST_LOSS, DUPLICATE, JITTER, REORDER, REORDER_DELAY, CORRUPT, CORRUPT_FLIPS, CORRUPT_BIT }

    /** Uniform in [0, 1). */
    double nextDouble(Draw what);

    /** Uniform in [lo, hi). */
    long nextLong(Draw what, long lo, long hi);

    /** Uniform in [0, bound). */
    int nextInt(Draw what, int bound);

    /** True with probability p; draws nothing when p is 0 or 1 so disabled faults consume no randomness. */
    default boolean chance(Draw what, double p) {
        if (p <= 0) {
            return false;
        }
        if (p >= 1) {
            return true;
        }
        return nextDouble(what) < p;
    }
}
