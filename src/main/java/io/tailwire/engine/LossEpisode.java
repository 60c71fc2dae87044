package io.tailwire.engine;

/**
 * Eifel-style detection (RFC 3522) of a loss declared by mistake (wire-spec.md 7.3). A loss episode
 * (numbered from 1) gathers the losses declared since the last judgement, which can span several recovery
 * periods: how many packets it declared lost and how many of those have since proved delivered by their
 * first copy. Any packet proved really lost confirms the episode; when every loss proves spurious, the
 * congestion controller's reduction is undone. Not thread-safe: the send window's thread owns it.
 */
final class LossEpisode {
    private int number;
    private boolean open;
    private int lost;
    private int spurious;
    private int acked;
    private boolean timedOut;
    long spuriousRecoveries;

    /** {@code s} was declared lost (by a threshold, or by its retransmission timeout). */
    void onLost(SendWindow.Slot s, boolean byTimeout) {
        if (!open) {
            open = true;
            number++;
            lost = 0;
            spurious = 0;
            acked = 0;
            timedOut = false;
        }
        timedOut |= byTimeout;
        if (s.lostEpisode != number) {
            s.lostEpisode = number;
            lost++;
        }
    }

    /**
     * {@code s} is acknowledged by an ACK echoing {@code echo}. A loss was declared by mistake when the
     * packet is acknowledged before its retransmission went out, or by an ACK whose echoed timestamp is
     * older than that retransmission (so the first copy got there). Reordering beyond the packet threshold
     * otherwise halves cwnd for nothing.
     */
    void onAcked(SendWindow.Slot s, long echo, NewReno cc) {
        if (!open || s.lostEpisode != number) {
            return;
        }
        s.lostEpisode = 0;
        acked++;
        if (s.state == SendWindow.LOST || (s.retransmitted && echo - s.sentTimeNs < 0)) {
            spurious++;
        } else if (echo == s.sentTimeNs) {
            open = false; // its retransmission is what arrived: the loss was real, the reduction stands
            cc.confirm();
        }
        // Otherwise the ACK echoes a later packet and cannot tell which copy arrived: not spurious.
    }

    /**
     * After an ACK that acknowledged something: once every packet the episode declared lost is acknowledged,
     * undo it only if all were spurious. Not after a retransmission timeout: a timeout that proves spurious
     * usually means a queue longer than the RTO, and restoring the window would keep that queue full (found
     * by CongestionSharingTest).
     */
    void judge(NewReno cc) {
        if (open && acked == lost) {
            if (spurious == lost && !timedOut) {
                cc.undo();
                spuriousRecoveries++;
            } else {
                cc.confirm();
            }
            open = false;
        }
    }
}
