package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.DataFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * One packet overtaken by more than the packet threshold is declared lost and retransmitted, and, with a
 * queue on the path, cwnd is halved. When its first copy turns out to have arrived (reordering), the
 * reduction is undone (wire-spec.md 7.3); when it really was lost, the reduction stands. Without a queue
 * the loss leaves cwnd alone.
 */
class SpuriousLossTest {
    private final UnsafeBuffer payload = new UnsafeBuffer(new byte[1000]);
    private long offset;

    private void feed(Harness h, int sid) {
        while (h.agent.sendSpace() >= 1000 && h.agent.send(sid, offset, payload, 0, 1000)) {
            offset += 1000;
        }
    }

    private static long packetNumber(byte[] b) {
        DataFlyweight d = new DataFlyweight();
        d.wrap(new UnsafeBuffer(b), 0, b.length);
        return d.packetNumber();
    }

    /**
     * Bulk transfer until cwnd has grown; then the first copy of one DATA packet is held back until the
     * packet threshold declares it lost (well below the RTO), and that fast retransmission is dropped. With
     * {@code delivered} the held copy then arrives; without, it is lost and only a later retransmission
     * gets through. With {@code queued} the path first gains 3 ms of queueing delay (RTT 0.2 -> 3.2 ms), so
     * the loss counts as congestion. Returns {cwnd before, cwnd 10 ms after}.
     */
    private long[] overtake(Harness h, boolean delivered, boolean queued) {
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        int sid = h.agent.openStream("/reorder", 1, null, 0);
        assertTrue(h.runUntil(() -> h.lastStatus == StreamStatus.OK, 1000 * NANOS_PER_MILLI));
        long until = h.now + 200 * NANOS_PER_MILLI;
        while (h.now < until) {
            feed(h, sid);
            h.step();
        }
        if (queued) {
            h.delayNs += 1_500 * 1_000;
            until = h.now + 100 * NANOS_PER_MILLI;
            while (h.now < until) {
                feed(h, sid);
                h.step();
            }
        }
        long before = h.agent.congestionWindow();
        long[] victim = {-1};
        byte[][] held = new byte[1][];
        int[] copies = {0};
        h.dropToServer = b -> {
            if (b[1] != Wire.TYPE_DATA) {
                return false;
            }
            long pn = packetNumber(b);
            if (victim[0] < 0) {
                victim[0] = pn;
            }
            if (pn != victim[0]) {
                return false;
            }
            copies[0]++;
            if (copies[0] == 1) {
                held[0] = b; // the first copy, overtaken
                return true;
            }
            return copies[0] == 2; // the fast retransmission is lost; any later copy goes through
        };
        long giveUp = h.now + 20 * NANOS_PER_MILLI;
        while (h.agent.stats().fastRetransmits() == 0 && h.now < giveUp) {
            feed(h, sid);
            h.step();
        }
        assertEquals(1, h.agent.stats().fastRetransmits(), "declared lost by the threshold");
        if (delivered) {
            h.deliverRaw(held[0], true);
        }
        until = h.now + 10 * NANOS_PER_MILLI;
        while (h.now < until) {
            feed(h, sid);
            h.step();
        }
        return new long[] {before, h.agent.congestionWindow()};
    }

    @Test
    void aPacketOvertakenByReorderingDoesNotShrinkTheCongestionWindow() {
        Harness h = new Harness(7);
        long[] cwnd = overtake(h, true, true);
        assertEquals(1, h.agent.stats().spuriousRecoveries(), h.agent.stats().toString());
        assertTrue(cwnd[1] >= cwnd[0], "cwnd " + cwnd[0] + " before, " + cwnd[1] + " after");
    }

    @Test
    void aPacketReallyLostShrinksTheCongestionWindow() {
        Harness h = new Harness(7);
        long[] cwnd = overtake(h, false, true);
        assertEquals(0, h.agent.stats().spuriousRecoveries(), h.agent.stats().toString());
        assertTrue(cwnd[1] < cwnd[0], "cwnd " + cwnd[0] + " before the loss, " + cwnd[1] + " after");
    }

    @Test
    void aPacketReallyLostWithoutAQueueLeavesTheCongestionWindowAlone() {
        Harness h = new Harness(7);
        long[] cwnd = overtake(h, false, false);
        assertEquals(0, h.agent.stats().spuriousRecoveries(), h.agent.stats().toString());
        assertTrue(h.agent.stats().lossesTolerated() >= 1, h.agent.stats().toString());
        assertTrue(cwnd[1] >= cwnd[0], "cwnd " + cwnd[0] + " before the loss, " + cwnd[1] + " after");
    }
}
