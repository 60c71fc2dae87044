package io.tailwire.engine;

/**
 * NewReno congestion window as in RFC 9002 section 7 (wire-spec.md 7.3): slow start from 10 MPS,
 * congestion avoidance after the first loss, halving at most once per recovery period (the period ends
 * when a packet sent after it began is acknowledged), and reset to 2 MPS on persistent congestion.
 * Reductions whose losses all prove spurious are undone ({@link #undo}, RFC 4015's response): the window
 * goes back to what it was before them.
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
    }

    /** A packet sent at {@code sentTimeNs} was declared lost at {@code nowNs}. */
    public void onLost(long sentTimeNs, long nowNs) {
        if (inRecovery(sentTimeNs)) {
            return; // once per recovery period
        }
        rememberPrior();
        recoveryStartNs = nowNs;
        cwnd = Math.max(minWindow, cwnd / 2);
        ssthresh = cwnd;
        avoidanceCredit = 0;
    }

    /** Loss spanning several RTOs: collapse to the minimum window. */
    public void onPersistentCongestion(long nowNs) {
        rememberPrior();
        recoveryStartNs = nowNs;
        cwnd = minWindow;
        ssthresh = Math.max(ssthresh == Long.MAX_VALUE ? minWindow : ssthresh, minWindow);
        avoidanceCredit = 0;
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
    }
}
