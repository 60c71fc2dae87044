package io.tailwire.agent;

import io.tailwire.config.Configuration;

/**
 * Adaptive poll interval for {@link Tailer#scan}: the minimum while scans find changes, doubling up to
 * the maximum while idle, so a busy file is followed closely and an idle agent costs nothing.
 */
public final class PollBackoff {
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
        this(Configuration.POLL_MIN_NS, Configuration.POLL_MAX_NS);
    }

    public long minNanos() {
        return min;
    }

    public long maxNanos() {
        return max;
    }

    /** Delay before the next scan, given whether the last one (or a read) found anything. */
    public long next(boolean changed) {
        if (changed) {
            quiet = 0;
            current = min;
        } else if (++quiet > STAY_AT_MIN) {
            current = Math.min(max, current * 2);
        }
        return current;
    }

    /**
     * Scans that may find nothing before the interval starts to grow: a writer that pauses for a moment
     * (a busy host deschedules it for milliseconds) must not find the agent backed off to several ms when
     * it resumes. 8 scans: 1.6 ms at the 200 µs default.
     */
    static final int STAY_AT_MIN = 8;
    private int quiet;
}
