package io.tailwire.engine;

/**
 * NewReno congestion window as in RFC 9002 section 7 (wire-spec.md 7.3): slow start from 10 MPS,
 * congestion avoidance after the first loss, halving at most once per recovery period (the period ends
 * when a packet sent after it began is acknowledged), and reset to 2 MPS on persistent congestion.
 * Reductions whose losses all prove spurious are undone ({@link #undo}, RFC 4015's response): the window
 * goes back to what it was before them.
 *
 * <p>Loss without a queue is not congestion (wire-spec.md 7.3, in the spirit of TCP Veno): a loss declared
 * while the RTT (the sender passes the larger of SRTT and the recent maximum sample) is within
 * {@link #queueThresholdNs} of the minimum RTT leaves the window alone,
 * unless losses are frequent ({@link #HEAVY_LOSS_PERCENT} of recent packets). A bottleneck that overflows
 * has a full queue, so its losses still halve the window; random loss on an uncongested path (a noisy link,
 * a lossy proxy) no longer caps the window at Reno's sqrt(1.5/p) packets.
 */
public final class NewReno {
    private final long mps;
    private final long minWindow;
    private long cwnd;
    private long ssthresh = Long.MAX_VALUE;
    private long recoveryStartNs = Long.MIN_VALUE;
    private long avoidanceCredit;
    /** cwnd and ssthresh just before the current recovery period began; -1 when there is nothing to undo. */
    private long priorCwnd = -1;
    private long priorSsthresh;
    /** Recent fraction of packets lost, in 1/65536 units, averaged over about 64 packets. */
    private long lossRate;
    private long lossesTolerated;

    /** Losses above this share of recent packets count as congestion whatever the RTT says. */
    public static final int HEAVY_LOSS_PERCENT = 15;
    private static final int LOSS_RATE_SHIFT = 6; // EWMA weight 1/64
    private static final long LOSS_RATE_ONE = 1 << 16;
    private static final long HEAVY_LOSS = LOSS_RATE_ONE * HEAVY_LOSS_PERCENT / 100;
    /**
     * The smallest queueing delay that marks a loss as congestion: 2 ms. Below it is a busy host's
     * scheduling noise: on the 2-core bench machine SRTT swings 0.5-1.5 ms through a proxy with no queue,
     * and a 1 ms floor halved the window on half of 5% random losses (BENCHMARKS.md).
     */
    public static final long MIN_QUEUE_THRESHOLD_NS = 2_000_000L;

    public NewReno(long maxPayloadSize) {
        this.mps = maxPayloadSize;
        this.minWindow = 2 * maxPayloadSize;
        this.cwnd = 10 * maxPayloadSize;
    }

    public long window() {
        return cwnd;
    }

    public long ssthresh() {
        return ssthresh;
    }

    public boolean inRecovery(long sentTimeNs) {
        return sentTimeNs <= recoveryStartNs;
    }

    /** Losses that left the window alone because the path showed no queue. */
    public long lossesTolerated() {
        return lossesTolerated;
    }

    /**
     * Queueing delay above which a loss counts as congestion: a quarter of the path's own (minimum) RTT,
     * at least {@link #MIN_QUEUE_THRESHOLD_NS}. A queue that long is a bottleneck filling up.
     */
    public static long queueThresholdNs(long minRttNs) {
        return Math.max(MIN_QUEUE_THRESHOLD_NS, minRttNs / 4);
    }

    /**
     * A new RTT estimate: slow start ends once the path shows a queue (the smoothed RTT is
     * {@link #queueThresholdNs} above the minimum), in the spirit of HyStart (RFC 9406): doubling on into
     * a queue that is already building overflows it a round later, with a burst of losses and timeouts.
     */
    public void onRtt(long srttNs, long minRttNs) {
        if (cwnd < ssthresh && minRttNs > 0 && srttNs - minRttNs >= queueThresholdNs(minRttNs)) {
            ssthresh = cwnd;
        }
        assert invariants();
    }

    /** A packet was acknowledged (whatever {@link #onAcked} then does): feeds the recent loss rate. */
    public void onDelivered() {
        lossRate -= lossRate >> LOSS_RATE_SHIFT;
    }

    /** {@code bytes} of a packet sent at {@code sentTimeNs} were acknowledged. */
    public void onAcked(long bytes, long sentTimeNs) {
        if (inRecovery(sentTimeNs)) {
            return; // no growth for packets sent before the current recovery began
        }
        if (cwnd < ssthresh) {
            cwnd += bytes;
        } else {
            // cwnd grows by one MPS per cwnd of acknowledged bytes.
            avoidanceCredit += bytes * mps;
            if (avoidanceCredit >= cwnd) {
                long inc = avoidanceCredit / cwnd;
                avoidanceCredit -= inc * cwnd;
                cwnd += inc;
            }
        }
        assert invariants();
    }

    /**
     * A packet sent at {@code sentTimeNs} was declared lost at {@code nowNs}, when the RTT that shows the
     * queue was {@code rttNs} and the minimum RTT {@code minRttNs} (0: no sample yet).
     */
    public void onLost(long sentTimeNs, long nowNs, long rttNs, long minRttNs) {
        lossRate += (LOSS_RATE_ONE - lossRate) >> LOSS_RATE_SHIFT;
        if (inRecovery(sentTimeNs)) {
            return; // once per recovery period
        }
        if (minRttNs > 0 && rttNs - minRttNs < queueThresholdNs(minRttNs) && lossRate < HEAVY_LOSS) {
            // No queue: the loss is the path's, not congestion. It still ends slow start, whose doubling
            // outruns the smoothed RTT and would otherwise overflow a queue before it shows.
            lossesTolerated++;
            ssthresh = Math.min(ssthresh, cwnd);
            assert invariants();
            return;
        }
        rememberPrior();
        recoveryStartNs = nowNs;
        cwnd = Math.max(minWindow, cwnd / 2);
        ssthresh = cwnd;
        avoidanceCredit = 0;
        assert invariants();
    }

    /** Loss spanning several RTOs: collapse to the minimum window. */
    public void onPersistentCongestion(long nowNs) {
        rememberPrior();
        recoveryStartNs = nowNs;
        cwnd = minWindow;
        ssthresh = Math.max(ssthresh == Long.MAX_VALUE ? minWindow : ssthresh, minWindow);
        avoidanceCredit = 0;
        assert invariants();
    }

    /** Periods that follow one another before the first is judged (undo or confirm) share its prior. */
    private void rememberPrior() {
        if (priorCwnd < 0) {
            priorCwnd = cwnd;
            priorSsthresh = ssthresh;
        }
    }

    /** The losses were real: nothing to undo any more. */
    public void confirm() {
        priorCwnd = -1;
    }

    /**
     * Every packet declared lost since the last judgement was delivered after all (its first copy was
     * acknowledged): the reductions were a mistake (reordering, not congestion), so the window returns to
     * its value before them. Growth resumes for packets sent from now on.
     */
    public void undo() {
        if (priorCwnd < 0) {
            return;
        }
        cwnd = Math.max(cwnd, priorCwnd);
        ssthresh = priorSsthresh;
        priorCwnd = -1;
        assert invariants();
    }

    /**
     * The window never falls below 2 MPS (nor ssthresh), the avoidance credit stays below one window and
     * the loss rate within 0..1. Checked with -ea after every change; returns true to be an assert operand.
     */
    private boolean invariants() {
        if (cwnd < minWindow || ssthresh < minWindow || avoidanceCredit < 0 || avoidanceCredit >= Math.max(cwnd, 1)
            || lossRate < 0 || lossRate > LOSS_RATE_ONE) {
            throw new AssertionError("NewReno invariant broken: cwnd " + cwnd + ", ssthresh " + ssthresh
                + ", min window " + minWindow + ", avoidance credit " + avoidanceCredit + ", loss rate " + lossRate);
        }
        return true;
    }
}
