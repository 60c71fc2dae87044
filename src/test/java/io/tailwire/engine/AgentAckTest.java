package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** Sender-side ACK processing with hand-made ACKs: stale, duplicate, out-of-range and SACK edges. */
class AgentAckTest {
    /** Connected agent with an open stream and {@code packets} DATA packets in flight, network cut. */
    static Harness withPacketsInFlight(int packets) {
        Harness h = new Harness(31);
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        int sid = h.agent.openStream("/ack", 1, null, 0);
        assertTrue(h.runUntil(() -> h.lastStatus == StreamStatus.OK, 1000 * NANOS_PER_MILLI));
        h.dropToServer = b -> true;
        UnsafeBuffer src = new UnsafeBuffer(new byte[100]);
        for (int i = 0; i < packets; i++) {
            assertTrue(h.agent.send(sid, 100L * i, src, 0, 100));
        }
        h.step();
        assertEquals(100L * packets, h.agent.bytesInFlight());
        return h;
    }

    static byte[] ack(long conn, long cum, long window, long... sackWords) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[Wire.MAX_ACK_LENGTH]);
        AckFlyweight a = new AckFlyweight();
        a.wrapForEncode(b, 0, b.capacity());
        a.encode(conn, cum, 0, 0, window, sackWords.length, 0);
        for (int i = 0; i < sackWords.length; i++) {
            a.sackWord(i, sackWords[i]);
        }
        int len = a.seal();
        byte[] out = new byte[len];
        b.getBytes(0, out);
        return out;
    }

    @Test
    void staleAckDoesNotMoveTheWindowBackwardsButItsSackBitsCount() {
        Harness h = withPacketsInFlight(10);
        long c = h.agent.connectionId();
        h.deliverRaw(ack(c, 5, 50_000), false);
        assertEquals(500, h.agent.bytesInFlight());
        assertEquals(50_000, h.agent.peerWindow());
        // Older ACK (cumulative 3) with a zero window and a SACK bit for packet 6 (= 3 + 1 + 2). Packet 6
        // leaves flight; packet 5, sent before it and longer than 9/8 RTT ago, is lost by the time threshold.
        h.deliverRaw(ack(c, 3, 0, 1L << 2), false);
        assertEquals(50_000, h.agent.peerWindow());
        assertEquals(300, h.agent.bytesInFlight());
        assertEquals(1, h.agent.stats().fastRetransmits());
        // Exact duplicate of the newest ACK: nothing changes.
        h.deliverRaw(ack(c, 5, 50_000), false);
        assertEquals(300, h.agent.bytesInFlight());
    }

    @Test
    void ackOfPacketsNeverSentIsIgnoredEntirely() {
        Harness h = withPacketsInFlight(4);
        long c = h.agent.connectionId();
        h.deliverRaw(ack(c, 9, 1), false);
        assertEquals(400, h.agent.bytesInFlight());
        assertTrue(h.agent.peerWindow() > 1);
        // SACK bits beyond what was sent are ignored, the valid ones used: packet 1 is acknowledged (and packet
        // 0, sent before it long enough ago, lost by the time threshold); packet 41 does not exist.
        h.deliverRaw(ack(c, 0, 100_000, 0b1 | (1L << 40)), false); // packet 1 and packet 41
        assertEquals(200, h.agent.bytesInFlight());
        assertEquals(1, h.agent.stats().fastRetransmits());
    }

    @Test
    void firstAndLastBitOfSackWordsAcknowledgeTheRightPackets() {
        Harness h = withPacketsInFlight(140);
        long c = h.agent.connectionId();
        // cumulative 0: word 0 bit 0 = packet 1, bit 63 = packet 64; word 1 bit 0 = 65, bit 63 = 128.
        h.deliverRaw(ack(c, 0, 1 << 20, 1L | (1L << 63), 1L | (1L << 63)), false);
        // Packets 1, 64, 65, 128 acknowledged; every unacknowledged packet sent before 128 is lost: 0..125 by
        // the packet threshold, 126 and 127 by the time threshold (sent over 9/8 RTT ago): 128 - 3 = 125 of
        // them. Left: 129..139.
        assertEquals(100L * 11, h.agent.bytesInFlight());
        assertEquals(125, h.agent.stats().fastRetransmits());
        // Everything below 129 then arrives cumulatively, including the lost packet 0.
        h.deliverRaw(ack(c, 129, 1 << 20), false);
        assertEquals(100L * (140 - 129), h.agent.bytesInFlight());
    }

    @Test
    void ackForAnotherConnectionIsDropped() {
        Harness h = withPacketsInFlight(3);
        h.deliverRaw(ack(h.agent.connectionId() + 1, 3, 100_000), false);
        assertEquals(300, h.agent.bytesInFlight());
        assertEquals(1, h.agent.stats().datagramsDropped());
    }
}
