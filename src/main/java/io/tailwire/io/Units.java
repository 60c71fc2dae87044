package io.tailwire.io;

/**
 * Time-unit factors, defined once: engine, agent and server time is a {@code long} of nanoseconds
 * (see {@link Clock}), so a duration reads as {@code 250 * NANOS_PER_MILLI}.
 */
public final class Units {
    public static final long NANOS_PER_MICRO = 1_000L;
    public static final long NANOS_PER_MILLI = 1_000_000L;
    public static final long NANOS_PER_SECOND = 1_000_000_000L;

    private Units() {
    }
}
