package io.tailwire.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NewRenoTest {
    static final long MPS = 1424;

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
        cc.onLost(10, 100);
        assertEquals(5 * MPS, cc.window());
        cc.onLost(50, 110);      // sent before recovery began at 100: same period
        assertEquals(5 * MPS, cc.window());
        cc.onAcked(MPS, 90);     // no growth for packets sent before the period
        assertEquals(5 * MPS, cc.window());
        cc.onLost(200, 210);     // sent after: new period
        assertEquals(2 * MPS + MPS / 2, cc.window());
        cc.onLost(300, 310);
        assertEquals(2 * MPS, cc.window()); // never below the minimum
    }

    @Test
    void congestionAvoidanceAddsOnePacketPerWindow() {
        NewReno cc = new NewReno(MPS);
        cc.onLost(0, 0);
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
        cc.onLost(10, 100);
        cc.onPersistentCongestion(120);
        assertEquals(2 * MPS, cc.window());
        cc.undo();
        assertEquals(before, cc.window());
        cc.onAcked(MPS, 200);
        assertEquals(before + MPS, cc.window(), "still in slow start: the threshold was restored too");
        cc.undo();
        assertEquals(before + MPS, cc.window(), "a second undo of the same period changes nothing");
    }
}
