package io.tailwire.engine;

import java.util.Arrays;

/**
 * A connection's named timers (after quinn-proto's {@code TimerTable}): one deadline per timer, each
 * either stopped, armed at an absolute time in ns, or due at the next poll. Comparisons wrap like
 * {@link System#nanoTime}, so callers never compare deadlines themselves or know the sentinels.
 * Not thread-safe: the connection's thread owns it.
 */
final class TimerTable<T extends Enum<T>> {
    /** Stored for a stopped timer; never compared as a time. */
    private static final long STOPPED = Long.MAX_VALUE;
    /** Stored for a timer due at the next poll, whatever the clock says then. */
    private static final long NOW = Long.MIN_VALUE;

    private final long[] deadlines;

    TimerTable(Class<T> timers) {
        deadlines = new long[timers.getEnumConstants().length];
        Arrays.fill(deadlines, STOPPED);
    }

    /** Arms {@code timer} to expire at {@code atNs} (absolute). */
    void set(T timer, long atNs) {
        // The two sentinel values are not times a clock reaches in practice; keep them out of the table.
        assert atNs != STOPPED && atNs != NOW : "deadline " + atNs + " collides with a sentinel";
        deadlines[timer.ordinal()] = atNs;
    }

    /** Arms {@code timer} to expire at the next poll, whenever that is (no time is known here). */
    void setDue(T timer) {
        deadlines[timer.ordinal()] = NOW;
    }

    void stop(T timer) {
        deadlines[timer.ordinal()] = STOPPED;
    }

    boolean isSet(T timer) {
        return deadlines[timer.ordinal()] != STOPPED;
    }

    /** {@code timer} is armed and its deadline is at or before {@code nowNs}. */
    boolean isExpired(T timer, long nowNs) {
        long d = deadlines[timer.ordinal()];
        return d == NOW || (d != STOPPED && nowNs - d >= 0);
    }

    /** The earliest armed deadline: {@link Long#MIN_VALUE} if one is due at once, MAX_VALUE if none is armed. */
    long next() {
        long min = STOPPED;
        for (long d : deadlines) {
            if (d < min) {
                min = d;
            }
        }
        return min;
    }

    /** The deadline of {@code timer} as {@link #next()} reports it (MIN_VALUE: due now, MAX_VALUE: stopped). */
    long get(T timer) {
        return deadlines[timer.ordinal()];
    }
}
