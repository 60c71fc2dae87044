package io.tailwire.agent;

/**
 * Adaptive poll interval for {@link Tailer#scan}: the minimum while scans find changes, doubling up to
 * the maximum while idle, so a busy file is followed closely and an idle agent costs nothing.
 */
public final class PollBackoff {
    public static final long DEFAULT_MIN_NANOS = 1_000_000L;
    public static final long DEFAULT_MAX_NANOS = 250_000_000L;
    private final long min;
    private final long max;
    private long current;

    public PollBackoff(long minNanos, long maxNanos) {
        if (minNanos <= 0 || maxNanos < minNanos) {
            throw new IllegalArgumentException("need 0 < min <= max");
        }
        this.min = minNanos;
        this.max = maxNanos;
        this.current = minNanos;
    }

    public PollBackoff() {
        this(DEFAULT_MIN_NANOS, DEFAULT_MAX_NANOS);
    }

    /** Delay before the next scan, given whether the last one (or a read) found anything. */
    public long next(boolean changed) {
        current = changed ? min : Math.min(max, current * 2);
        return current;
    }
}
