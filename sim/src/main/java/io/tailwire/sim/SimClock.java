package io.tailwire.sim;

import io.tailwire.io.Clock;

/** Virtual monotonic time in nanoseconds; moves only when the simulation driver advances it. */
public final class SimClock implements Clock {
    private long now;

    public SimClock(long startNanos) {
        this.now = startNanos;
    }

    @Override
    public long nanoTime() {
        return now;
    }

    /** Moves time forward to t; a t in the past is a driver bug, so it throws rather than rewinding. */
    public void advanceTo(long t) {
        if (t < now) {
            throw new IllegalArgumentException("time would go backwards: " + t + " < " + now);
        }
        now = t;
    }

    public void advanceBy(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("negative advance " + nanos);
        }
        now += nanos;
    }
}
