package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;

import io.tailwire.config.Configuration;

/**
 * RFC 6298 smoothed RTT (alpha 1/8, beta 1/4) with the wire-spec.md section 8 RTO:
 * SRTT + max(1 ms + SRTT/8, 4 RTTVAR) + max_ack_delay, clamped to [min RTO, max RTO], doubled per back-off.
 * Before the first sample the RTO is the initial RTT (100 ms) so a lost HELLO is repeated promptly.
 */
public final class RttEstimator {
    private final long initialRttNs;
    private final long minRtoNs;
    private final long maxRtoNs;
    private final long maxAckDelayNs;
    private boolean hasSample;
    private long srttNs;
    private long rttvarNs;
    private long latestNs;
    private long minRttNs = Long.MAX_VALUE;
    /** Largest sample in the current and the previous window of one SRTT: the recent queue's peak. */
    private long windowMaxNs;
    private long previousWindowMaxNs;
    private long windowStartNs = Long.MIN_VALUE;

    public RttEstimator(long initialRttNs, long minRtoNs, long maxRtoNs, long maxAckDelayNs) {
        this.initialRttNs = initialRttNs;
        this.minRtoNs = minRtoNs;
        this.maxRtoNs = maxRtoNs;
        this.maxAckDelayNs = maxAckDelayNs;
        this.srttNs = initialRttNs;
        this.rttvarNs = initialRttNs / 2;
    }

    /** With the shipped values ({@link Configuration}). */
    public RttEstimator() {
        this(Configuration.INITIAL_RTT_NS, Configuration.MIN_RTO_NS, Configuration.MAX_RTO_NS,
            Configuration.MAX_ACK_DELAY_NS);
    }

    /**
     * Adds a sample taken at {@code nowNs}; the peer's ack delay is subtracted when that leaves at least the
     * minimum RTT.
     */
    public void onSample(long rttNs, long ackDelayNs, long nowNs) {
        if (rttNs < 0) {
            return;
        }
        if (windowStartNs == Long.MIN_VALUE || nowNs - windowStartNs >= srttNs) {
            previousWindowMaxNs = windowMaxNs;
            windowMaxNs = 0;
            windowStartNs = nowNs;
        }
        windowMaxNs = Math.max(windowMaxNs, rttNs);
        latestNs = rttNs;
        minRttNs = Math.min(minRttNs, rttNs);
        long adjusted = rttNs;
        if (ackDelayNs > 0 && rttNs - ackDelayNs >= minRttNs) {
            adjusted = rttNs - ackDelayNs;
        }
        if (!hasSample) {
            hasSample = true;
            srttNs = adjusted;
            rttvarNs = adjusted / 2;
        } else {
            rttvarNs = (3 * rttvarNs + Math.abs(srttNs - adjusted)) / 4;
            srttNs = (7 * srttNs + adjusted) / 8;
        }
        // Every sample that enters SRTT is at least the minimum RTT, so their average is too.
        assert srttNs >= minRttNs && rttvarNs >= 0 && minRttNs <= latestNs
            : "RTT invariant broken: srtt " + srttNs + ", rttvar " + rttvarNs + ", min " + minRttNs + ", latest " + latestNs;
    }

    public long rtoNs() {
        return hasSample ? clamp(timeoutNs()) : clamp(initialRttNs);
    }

    /**
     * SRTT + max(1 ms + SRTT/8, 4 RTTVAR) + max_ack_delay. The variance term is at least SRTT/8 + 1 ms so
     * that a timer never fires before the time threshold of loss detection (9/8 RTT, at least 1 ms) has had
     * its chance: on a steady path RTTVAR falls to ~0 and a timer at SRTT + 1 ms turned every small-window
     * loss into a timeout.
     */
    private long timeoutNs() {
        return srttNs + Math.max(NANOS_PER_MILLI + (srttNs >> 3), 4 * rttvarNs) + maxAckDelayNs;
    }

    /** RTO doubled {@code backoff} times, capped at the maximum RTO. */
    public long rtoNs(int backoff) {
        return backedOff(rtoNs(), backoff);
    }

    /**
     * Probe timeout (RFC 9002 6.2's PTO): the RTO's formula without the minimum RTO, doubled
     * {@code backoff} times. When it expires with packets in flight and no ACK, the sender sends one of them
     * again as a probe, without declaring anything lost or touching cwnd; its ACK tells what happened.
     * Before the first sample: the RTO.
     */
    public long ptoNs(int backoff) {
        return hasSample ? backedOff(Math.min(maxRtoNs, timeoutNs()), backoff) : rtoNs(backoff);
    }

    private long backedOff(long timeout, int backoff) {
        for (int i = 0; i < backoff && timeout < maxRtoNs; i++) {
            timeout <<= 1;
        }
        return Math.min(timeout, maxRtoNs);
    }

    private long clamp(long v) {
        return Math.max(minRtoNs, Math.min(maxRtoNs, v));
    }

    public boolean hasSample() {
        return hasSample;
    }

    public long srttNs() {
        return srttNs;
    }

    public long rttvarNs() {
        return rttvarNs;
    }

    public long latestNs() {
        return latestNs;
    }

    /**
     * The largest RTT sample of roughly the last one to two SRTTs (0 without samples): what the packets
     * around a loss just detected saw. A burst that overflows a queue shows here while SRTT still lags.
     */
    public long recentMaxNs() {
        return Math.max(windowMaxNs, previousWindowMaxNs);
    }

    public long minRttNs() {
        return hasSample ? minRttNs : 0;
    }

    public long maxRtoNs() {
        return maxRtoNs;
    }
}
