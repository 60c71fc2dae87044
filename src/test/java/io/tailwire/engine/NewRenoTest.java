package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NewRenoTest {
    static final long MPS = 1424;

    /** A loss while the RTT shows a 30 ms queue on a 20 ms path: congestion. */
    static void queued(NewReno cc, long sentNs, long nowNs) {
        cc.onLost(sentNs, nowNs, 50 * NANOS_PER_MILLI, 20 * NANOS_PER_MILLI);
    }

    @Test
    void startsAtTenPacketsAndGrowsByAckedBytesInSlowStart() {
        NewReno cc = new NewReno(MPS);
        assertEquals(10 * MPS, cc.window());
        cc.onAcked(MPS, 1);
        assertEquals(11 * MPS, cc.window());
    }

    @Test
    void halvesOncePerRecoveryPeriod() {
        NewReno cc = new NewReno(MPS);
        queued(cc, 10, 100);
        assertEquals(5 * MPS, cc.window());
        queued(cc, 50, 110);      // sent before recovery began at 100: same period
        assertEquals(5 * MPS, cc.window());
        cc.onAcked(MPS, 90);     // no growth for packets sent before the period
        assertEquals(5 * MPS, cc.window());
        queued(cc, 200, 210);     // sent after: new period
        assertEquals(2 * MPS + MPS / 2, cc.window());
        queued(cc, 300, 310);
        assertEquals(2 * MPS, cc.window()); // never below the minimum
    }

    @Test
    void congestionAvoidanceAddsOnePacketPerWindow() {
        NewReno cc = new NewReno(MPS);
        queued(cc, 0, 0);
        long w = cc.window();
        long acked = 0;
        while (acked < w) {
            cc.onAcked(MPS, 1);
            acked += MPS;
        }
        // RFC 9002: cwnd += MPS * acked / cwnd per ACK, so one window of ACKs adds just under one MPS.
        long growth = cc.window() - w;
        org.junit.jupiter.api.Assertions.assertTrue(growth > 0.9 * MPS && growth <= MPS, "growth " + growth);
    }

    @Test
    void persistentCongestionCollapsesToMinimum() {
        NewReno cc = new NewReno(MPS);
        for (int i = 0; i < 100; i++) {
            cc.onAcked(MPS, 1);
        }
        cc.onPersistentCongestion(5);
        assertEquals(2 * MPS, cc.window());
    }

    @Test
    void undoRestoresTheWindowAndThresholdFromBeforeTheRecoveryPeriod() {
        NewReno cc = new NewReno(MPS);
        for (int i = 0; i < 30; i++) {
            cc.onAcked(MPS, 1);
        }
        long before = cc.window();
        queued(cc, 10, 100);
        cc.onPersistentCongestion(120);
        assertEquals(2 * MPS, cc.window());
        cc.undo();
        assertEquals(before, cc.window());
        cc.onAcked(MPS, 200);
        assertEquals(before + MPS, cc.window(), "still in slow start: the threshold was restored too");
        cc.undo();
        assertEquals(before + MPS, cc.window(), "a second undo of the same period changes nothing");
    }

    @Test
    void lossWithoutAQueueLeavesTheWindowAlone() {
        NewReno cc = new NewReno(MPS);
        long w = cc.window();
        // 20 ms path, smoothed RTT 24 ms: 4 ms of queue is below a quarter of the path (5 ms).
        cc.onLost(10, 100, 24 * NANOS_PER_MILLI, 20 * NANOS_PER_MILLI);
        assertEquals(w, cc.window());
        assertEquals(1, cc.lossesTolerated());
        assertEquals(w, cc.ssthresh(), "it ends slow start, which outruns the RTT signal");
        // 6 ms of queue: congestion.
        cc.onLost(300, 400, 26 * NANOS_PER_MILLI, 20 * NANOS_PER_MILLI);
        assertEquals(w / 2, cc.window());
    }

    @Test
    void onShortPathsTheQueueThresholdIsTwoMilliseconds() {
        assertEquals(2 * NANOS_PER_MILLI, NewReno.queueThresholdNs(100_000));
        NewReno cc = new NewReno(MPS);
        long w = cc.window();
        cc.onLost(10, 100, 2_000_000, 100_000); // 1.9 ms of queue
        assertEquals(w, cc.window());
        cc.onLost(200, 300, 2_200_000, 100_000); // 2.1 ms
        assertEquals(w / 2, cc.window());
    }

    @Test
    void frequentLossesCountAsCongestionEvenWithoutAQueue() {
        NewReno cc = new NewReno(MPS);
        long w = cc.window();
        // One loss in three packets, RTT flat: past the heavy-loss share within a few dozen packets.
        int tolerated = 0;
        for (int i = 0; i < 60 && cc.window() == w; i++) {
            cc.onDelivered();
            cc.onDelivered();
            cc.onLost(10 + i, 100 + i, 20 * NANOS_PER_MILLI, 20 * NANOS_PER_MILLI);
            tolerated++;
        }
        assertEquals(w / 2, cc.window(), "never reduced after " + tolerated + " losses");
        // One in twenty (5%) stays below it for good.
        NewReno light = new NewReno(MPS);
        for (int i = 0; i < 2000; i++) {
            for (int k = 0; k < 19; k++) {
                light.onDelivered();
            }
            light.onLost(10 + i, 100 + i, 20 * NANOS_PER_MILLI, 20 * NANOS_PER_MILLI);
        }
        assertEquals(w, light.window());
        assertEquals(2000, light.lossesTolerated());
    }

    @Test
    void slowStartEndsWhenTheRttShowsAQueue() {
        NewReno cc = new NewReno(MPS);
        cc.onRtt(24 * NANOS_PER_MILLI, 20 * NANOS_PER_MILLI); // 4 ms of queue on a 20 ms path: below a quarter of it
        cc.onAcked(MPS, 1);
        assertEquals(11 * MPS, cc.window(), "still doubling");
        cc.onRtt(26 * NANOS_PER_MILLI, 20 * NANOS_PER_MILLI); // 6 ms: a queue is building
        assertEquals(11 * MPS, cc.ssthresh());
        long acked = 0;
        while (acked < 11 * MPS) {
            cc.onAcked(MPS, 1);
            acked += MPS;
        }
        long growth = cc.window() - 11 * MPS; // congestion avoidance: just under one packet per window
        org.junit.jupiter.api.Assertions.assertTrue(growth > 0.9 * MPS && growth <= MPS, "growth " + growth);
    }
}
