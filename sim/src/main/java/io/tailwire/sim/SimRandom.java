package io.tailwire.sim;

import io.tailwire.fault.FaultRandom;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Seeded randomness. Every component takes its own child stream, derived from the root seed and the
 * child's name only (not from how many draws or children came before), so adding a component or a
 * draw in one place never changes the random choices made anywhere else.
 */
public final class SimRandom implements FaultRandom {
    private final long seed;
    private final SplittableRandom rnd;

    public SimRandom(long seed) {
        this.seed = seed;
        this.rnd = new SplittableRandom(seed);
    }

    public long seed() {
        return seed;
    }

    /** Independent stream named {@code name}; the same name under the same seed gives the same stream. */
    public SimRandom child(String name) {
        return new SimRandom(mix(seed ^ mix(fnv1a(name))));
    }

    public long nextLong() {
        return rnd.nextLong();
    }

    /** Uniform in [0, bound). */
    public int nextInt(int bound) {
        return rnd.nextInt(bound);
    }

    /** Uniform in [lo, hi). */
    public long nextLong(long lo, long hi) {
        return rnd.nextLong(lo, hi);
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return rnd.nextDouble();
    }

    /** True with probability p; draws nothing when p is 0 or 1 so disabled faults consume no randomness. */
    public boolean chance(double p) {
        if (p <= 0) {
            return false;
        }
        if (p >= 1) {
            return true;
        }
        return rnd.nextDouble() < p;
    }

    /** A fault lane's draws come from this stream in the order asked, whatever they decide. */
    @Override
    public double nextDouble(Draw what) {
        return rnd.nextDouble();
    }

    @Override
    public long nextLong(Draw what, long lo, long hi) {
        return rnd.nextLong(lo, hi);
    }

    @Override
    public int nextInt(Draw what, int bound) {
        return rnd.nextInt(bound);
    }

    public void nextBytes(byte[] out) {
        rnd.nextBytes(out);
    }

    private static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64 finaliser: spreads nearby seeds and names far apart. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
