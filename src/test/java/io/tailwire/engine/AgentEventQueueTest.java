package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.proto.StreamReply;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** The connection queues what happened and the caller takes it afterwards (no call-backs, issue 12 item 1). */
class AgentEventQueueTest {
    /** An ACK from the server acknowledging nothing new, with the given durable entries (stream id, offset). */
    private static byte[] ackWithDurable(Harness h, long... idOffsetPairs) {
        AckFlyweight a = new AckFlyweight();
        int n = idOffsetPairs.length / 2;
        UnsafeBuffer b = new UnsafeBuffer(new byte[Wire.ACK_FIXED_LENGTH + Wire.DURABLE_ENTRY_LENGTH * n]);
        a.wrapForEncode(b, 0, b.capacity());
        a.encode(h.agent.connectionId(), 0, 0, 0, 1 << 20, 0, n);
        for (int i = 0; i < n; i++) {
            a.durableEntry(i, (int) idOffsetPairs[2 * i], idOffsetPairs[2 * i + 1]);
        }
        a.seal();
        return b.byteArray();
    }

    private static int replyStream(byte[] reply) {
        return ((StreamReply) ControlCodec.decodeBody(Wire.TYPE_STREAM_REPLY, new UnsafeBuffer(reply), 0, reply.length))
            .getStreamId();
    }

    private static int openedStream(Harness h, String path) {
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        int sid = h.agent.openStream(path, 1, null, 0);
        assertTrue(h.runUntil(() -> h.lastReplyStream == sid, 2000 * NANOS_PER_MILLI));
        assertEquals(StreamStatus.OK, h.lastStatus);
        return sid;
    }

    @Test
    void durableEntriesNotYetTakenCoalesceIntoOneEventWithTheHighestOffset() {
        Harness h = new Harness(91);
        int sid = openedStream(h, "/coalesce");
        byte[] first = ackWithDurable(h, sid, 300);
        byte[] second = ackWithDurable(h, sid, 700);
        byte[] third = ackWithDurable(h, sid, 500); // reordered: older than the second
        for (byte[] ack : new byte[][] {first, second, third}) {
            h.agent.onDatagram(new UnsafeBuffer(ack), 0, ack.length, h.now);
        }
        AgentEvent e = h.agent.pollEvent();
        AgentEvent.Durable d = assertInstanceOf(AgentEvent.Durable.class, e);
        assertEquals(sid, d.streamId());
        assertEquals(700, d.offset());
        assertNull(h.agent.pollEvent(), "three ACKs for one stream queued one event");
        // Taken, the stream's event is queued afresh by the next entry, with that entry's offset.
        h.agent.onDatagram(new UnsafeBuffer(third), 0, third.length, h.now);
        AgentEvent again = h.agent.pollEvent();
        assertSame(d, again, "the stream's durable event is reused, not allocated per ACK");
        assertEquals(500, d.offset());
    }

    @Test
    void aDurableEntryForAStreamTheConnectionDoesNotHoldQueuesNothing() {
        Harness h = new Harness(92);
        int sid = openedStream(h, "/known");
        byte[] ack = ackWithDurable(h, sid + 100, 1234, sid, 10);
        h.agent.onDatagram(new UnsafeBuffer(ack), 0, ack.length, h.now);
        AgentEvent.Durable d = assertInstanceOf(AgentEvent.Durable.class, h.agent.pollEvent());
        assertEquals(sid, d.streamId());
        assertNull(h.agent.pollEvent());
    }

    @Test
    void eventsAreTakenInTheOrderTheirDatagramsArrived() {
        Harness h = new Harness(93);
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        int a = h.agent.openStream("/a", 1, null, 0);
        int b = h.agent.openStream("/b", 1, null, 0);
        // Capture the server's replies instead of delivering them, then deliver them in reverse.
        java.util.List<byte[]> replies = new java.util.ArrayList<>();
        h.dropToAgent = bytes -> {
            if (Harness.type(bytes) == Wire.TYPE_STREAM_REPLY) {
                replies.add(bytes);
                return true;
            }
            return false;
        };
        assertTrue(h.runUntil(() -> replies.size() == 2, 2000 * NANOS_PER_MILLI));
        h.agent.onDatagram(new UnsafeBuffer(replies.get(1)), 0, replies.get(1).length, h.now);
        h.agent.onDatagram(new UnsafeBuffer(replies.get(0)), 0, replies.get(0).length, h.now);
        AgentEvent.StreamReplied r1 = assertInstanceOf(AgentEvent.StreamReplied.class, h.agent.pollEvent());
        AgentEvent.StreamReplied r2 = assertInstanceOf(AgentEvent.StreamReplied.class, h.agent.pollEvent());
        assertEquals(java.util.Set.of(a, b), java.util.Set.of(r1.streamId(), r2.streamId()));
        assertEquals(replyStream(replies.get(1)), r1.streamId(), "the reply delivered first is taken first");
        assertNull(h.agent.pollEvent());
        // The connection acted before the caller took the events: both streams already accept data.
        assertTrue(h.agent.send(a, 0, new UnsafeBuffer(new byte[10]), 0, 10));
        assertTrue(h.agent.send(b, 0, new UnsafeBuffer(new byte[10]), 0, 10));
    }
}
