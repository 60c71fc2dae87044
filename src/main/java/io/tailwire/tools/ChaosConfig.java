package io.tailwire.tools;

import java.util.List;

/**
 * Fault settings for one direction of udp-chaos. Times are nanoseconds; blackout windows are relative to the
 * proxy's start.
 *
 * @param loss             probability a datagram is dropped
 * @param dup              probability a forwarded datagram is sent twice
 * @param reorder          probability a forwarded datagram is held back until the next one has gone out
 * @param delayNanos       fixed delay added to every forwarded datagram
 * @param jitterNanos      uniform extra delay in [0, jitter] added per copy
 * @param blackouts        windows during which every datagram is dropped
 * @param rateBytesPerSec  token-bucket policer; 0 = unlimited
 * @param burstBytes       bucket size of the policer
 * @param reorderHoldNanos a held-back datagram goes out on its own after this long if nothing follows it
 */
public record ChaosConfig(double loss, double dup, double reorder, long delayNanos, long jitterNanos,
                          List<Blackout> blackouts, long rateBytesPerSec, long burstBytes, long reorderHoldNanos) {

    /** [startNanos, startNanos + durationNanos): half-open, so back-to-back windows do not overlap. */
    public record Blackout(long startNanos, long durationNanos) {
        public boolean covers(long nowNanos) {
            return nowNanos >= startNanos && nowNanos - startNanos < durationNanos;
        }
    }

    public ChaosConfig {
        checkProbability("loss", loss);
        checkProbability("dup", dup);
        checkProbability("reorder", reorder);
        if (delayNanos < 0 || jitterNanos < 0 || rateBytesPerSec < 0 || burstBytes < 0 || reorderHoldNanos < 0) {
            throw new IllegalArgumentException("delays, rate, burst and hold must be >= 0");
        }
        for (Blackout b : blackouts) {
            if (b.startNanos < 0 || b.durationNanos < 0) {
                throw new IllegalArgumentException("blackout start and duration must be >= 0");
            }
        }
        blackouts = List.copyOf(blackouts);
    }

    /** No faults at all: the proxy just forwards. */
    public static ChaosConfig none() {
        return new ChaosConfig(0, 0, 0, 0, 0, List.of(), 0, 0, 0);
    }

    /** Default policer bucket: 50 ms of traffic, but at least two full-size datagrams. */
    public static long defaultBurst(long rateBytesPerSec) {
        return Math.max(rateBytesPerSec / 20, 3000);
    }

    private static void checkProbability(String name, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(name + " must be a probability in [0, 1], got " + p);
        }
    }
}
