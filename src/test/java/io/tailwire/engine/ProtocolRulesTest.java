package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.proto.Close;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.Hello;
import io.tailwire.proto.Retry;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;
import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.Welcome;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.DataFlyweight;
import io.tailwire.wire.PingFlyweight;
import io.tailwire.wire.Wire;

import com.google.protobuf.MessageLite;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Rules of wire-spec.md that an independent implementation found silent or broken (issue 11): each test sends
 * what a conforming or misbehaving peer might and checks the answer the spec now prescribes.
 */
class ProtocolRulesTest {
    private static final UnsafeBuffer OUT = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);

    /** Polls the server dry so the next poll shows only the answer to what the test sends. */
    private static void drainServer(Harness h) {
        while (h.server.poll(OUT, h.now) > 0) {
            // discard
        }
    }

    /** The next datagram the server sends, decoded if it is a control message; null when it sends nothing. */
    private static MessageLite nextControl(Harness h) {
        int n = h.server.poll(OUT, h.now);
        if (n == 0) {
            return null;
        }
        ControlCodec.Decoded d = ControlCodec.decode(OUT, 0, n, Wire.MAX_MAX_DATAGRAM);
        assertNotNull(d, "server sent a non-control datagram of type " + (OUT.getByte(1) & 0xFF));
        return d.body();
    }

    private static void sendControl(Harness h, long connectionId, MessageLite m) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
        int len = ControlCodec.encode(b, 0, Wire.MAX_MAX_DATAGRAM, connectionId, m);
        byte[] bytes = new byte[len];
        b.getBytes(0, bytes);
        h.deliverRaw(bytes, true);
    }

    private static int openStream(Harness h, String path) {
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        int sid = h.agent.openStream(path, 1, null, 0);
        assertTrue(h.runUntil(() -> h.lastReplyStream == sid, 2000 * NANOS_PER_MILLI));
        assertEquals(StreamStatus.OK, h.lastStatus);
        return sid;
    }

    // ------------------------------------------------------------------ issue 11 item 7 (wire-spec 2)

    @Test
    void aDatagramLargerThanTheNegotiatedMaximumGetsNoReplyAndChangesNothing() {
        // The agent offers 1200, the server allows 1472: 1200 binds both, so a 1300-byte DATA is over it.
        Harness h = new Harness(71, ServerEndpointConfig.defaults(),
            AgentConnectionConfig.defaults("agent-1").withMaxDatagramSize(1200));
        int sid = openStream(h, "/big");
        drainServer(h);
        UnsafeBuffer b = new UnsafeBuffer(new byte[1300]);
        DataFlyweight d = new DataFlyweight();
        d.wrapForEncode(b, 0, 1300);
        int len = d.encode(h.agent.connectionId(), 0, 77, sid, 0, new UnsafeBuffer(new byte[1252]), 0, 1252);
        assertEquals(1300, len);
        h.deliverRaw(b.byteArray(), true);
        assertEquals(0, h.server.poll(OUT, h.now), "an oversized datagram must not be answered (no ACK)");
        assertEquals(0, h.store.get("agent-1", "/big", 1).held, "nor stored");
        assertEquals(0, h.server.stats().dataPackets());
    }

    // ------------------------------------------------------------------ issue 11 item 6 (wire-spec 6.1)

    @Test
    void aStreamOpenRepeatingAnIdForAnotherPathIsRefusedNotGivenTheOldReply() {
        Harness h = new Harness(72);
        int sid = openStream(h, "/a");
        drainServer(h);
        StreamOpen same = StreamOpen.newBuilder().setStreamId(sid).setPath("/a").setGeneration(1).build();
        sendControl(h, h.agent.connectionId(), same);
        MessageLite again = nextControl(h);
        assertTrue(again instanceof StreamReply r && r.getStatus() == StreamStatus.OK, "a true repeat: same reply");
        sendControl(h, h.agent.connectionId(), same.toBuilder().setPath("/b").build());
        MessageLite answer = nextControl(h);
        assertTrue(answer instanceof Close c && c.getCode() == CloseCode.PROTOCOL_VIOLATION,
            "another path under the same id must be refused, got " + answer);
        assertEquals(0, h.server.connectionCount());
    }

    @Test
    void twoDifferentStreamOpensWithOneIdInOneTurnAreRefused() {
        Harness h = new Harness(73);
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        drainServer(h);
        long conn = h.agent.connectionId();
        sendControl(h, conn, StreamOpen.newBuilder().setStreamId(9).setPath("/x").setGeneration(1).build());
        sendControl(h, conn, StreamOpen.newBuilder().setStreamId(9).setPath("/y").setGeneration(1).build());
        MessageLite answer = nextControl(h);
        assertTrue(answer instanceof Close c && c.getCode() == CloseCode.PROTOCOL_VIOLATION,
            "got " + answer);
        assertEquals(null, h.store.get("agent-1", "/y", 1));
    }

    // ------------------------------------------------------------------ wire-spec 5: durable offsets repeated

    @Test
    void anAckAnsweringAPingRepeatsTheDurableOffsetsItReportedBefore() {
        Harness h = new Harness(74);
        int sid = openStream(h, "/p");
        byte[] data = EndToEndTest.randomBytes(74, 5000);
        UnsafeBuffer src = new UnsafeBuffer(data);
        for (int off = 0; off < data.length; off += h.agent.maxPayload()) {
            int n = Math.min(h.agent.maxPayload(), data.length - off);
            assertTrue(h.agent.send(sid, off, src, off, n));
        }
        assertTrue(h.runUntil(() -> h.agent.allAcked(), 2000 * NANOS_PER_MILLI));
        h.server.onDurableAdvanced(); // the store's flush says so in the real server
        assertTrue(h.runUntil(() -> h.maxDurableHint == data.length, 2000 * NANOS_PER_MILLI));
        drainServer(h);
        // That ACK was the only report: if it had been lost, an idle agent would learn nothing more.
        UnsafeBuffer b = new UnsafeBuffer(new byte[Wire.PING_LENGTH]);
        PingFlyweight p = new PingFlyweight();
        p.wrapForEncode(b, 0, Wire.PING_LENGTH);
        p.encode(h.agent.connectionId(), h.now);
        h.deliverRaw(b.byteArray(), true);
        int n = h.server.poll(OUT, h.now);
        assertEquals(Wire.TYPE_ACK, OUT.getByte(1) & 0xFF);
        AckFlyweight a = new AckFlyweight();
        a.wrap(OUT, 0, n);
        assertEquals(1, a.durableCount(), "the PING's ACK repeats the durable offset");
        assertEquals(sid, a.durableStreamId(0));
        assertEquals(data.length, a.durableOffset(0));
    }

    /** Sends a PING to the server now and returns the stream ids of the durable entries in its ACK. */
    private static java.util.Set<Integer> pingAndReadDurableIds(Harness h) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[Wire.PING_LENGTH]);
        PingFlyweight p = new PingFlyweight();
        p.wrapForEncode(b, 0, Wire.PING_LENGTH);
        p.encode(h.agent.connectionId(), h.now);
        h.deliverRaw(b.byteArray(), true);
        int n = h.server.poll(OUT, h.now);
        assertEquals(Wire.TYPE_ACK, OUT.getByte(1) & 0xFF);
        AckFlyweight a = new AckFlyweight();
        a.wrap(OUT, 0, n);
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        for (int i = 0; i < a.durableCount(); i++) {
            ids.add(a.durableStreamId(i));
        }
        return ids;
    }

    @Test
    void withMoreThan64StreamsSuccessivePingsRepeatEveryDurableOffset() {
        Harness h = new Harness(81);
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        int streams = 70;
        java.util.Set<Integer> sids = new java.util.HashSet<>();
        for (int i = 0; i < streams; i++) {
            sids.add(h.agent.openStream("/s" + i, 1, null, 0));
        }
        assertTrue(h.runUntil(() -> h.log.stream().filter(l -> l.startsWith("reply")).count() == streams,
            5000 * NANOS_PER_MILLI));
        for (int sid : sids) {
            assertTrue(h.agent.send(sid, 0, new UnsafeBuffer(new byte[10]), 0, 10));
        }
        assertTrue(h.runUntil(() -> h.agent.allAcked(), 2000 * NANOS_PER_MILLI));
        h.server.onDurableAdvanced();
        h.runUntil(() -> false, 10 * NANOS_PER_MILLI);
        drainServer(h);
        java.util.Set<Integer> first = pingAndReadDurableIds(h);
        assertEquals(Wire.MAX_DURABLE_ENTRIES, first.size());
        java.util.Set<Integer> seen = new java.util.HashSet<>(first);
        seen.addAll(pingAndReadDurableIds(h));
        assertEquals(sids, seen, "two PINGs repeat all 70 offsets, not the same 64 twice");
    }

    // ------------------------------------------------------------------ wire-spec 8: control retransmit floor

    @Test
    void aStreamOpenTheServerTakes340msToAnswerIsNotRepeatedMeanwhile() {
        Harness h = new Harness(75);
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        // The server makes a new path durable before it answers: 70-340 ms on a busy disk. Model the slow
        // answer by holding every copy until then; the agent must not repeat what it cannot speed up.
        long slowUntil = h.now + 340 * NANOS_PER_MILLI;
        h.dropToServer = b -> Harness.type(b) == Wire.TYPE_STREAM_OPEN && h.now < slowUntil;
        int sid = h.agent.openStream("/slow", 1, null, 0);
        h.runUntil(() -> h.now >= slowUntil, 1000 * NANOS_PER_MILLI);
        assertEquals(1, h.countSent(h.sentByAgent, Wire.TYPE_STREAM_OPEN), "copies within 340 ms");
        // A STREAM_OPEN that really was lost is still repeated, after the floor of 400 ms.
        assertTrue(h.runUntil(() -> h.lastReplyStream == sid, 1000 * NANOS_PER_MILLI));
        assertEquals(2, h.countSent(h.sentByAgent, Wire.TYPE_STREAM_OPEN));
    }

    // ------------------------------------------------------------------ wire-spec 7.1: window below one payload

    @Test
    void aWindowSmallerThanOnePayloadIsTreatedAsZero() {
        Harness h = new Harness(76);
        int sid = openStream(h, "/w");
        AckFlyweight a = new AckFlyweight();
        UnsafeBuffer b = new UnsafeBuffer(new byte[Wire.ACK_FIXED_LENGTH]);
        a.wrapForEncode(b, 0, b.capacity());
        a.encode(h.agent.connectionId(), 0, 0, 0, h.agent.maxPayload() - 1, 0, 0);
        a.seal();
        h.deliverRaw(b.byteArray(), false);
        assertEquals(h.agent.maxPayload() - 1, h.agent.peerWindow());
        assertTrue(h.agent.send(sid, 0, new UnsafeBuffer(new byte[100]), 0, 100)); // would fit the window
        for (int i = 0; i < 10; i++) {
            int n = h.agent.poll(OUT, h.now);
            assertTrue(n == 0 || (OUT.getByte(1) & 0xFF) != Wire.TYPE_DATA, "DATA sent into a window below one payload");
            h.now += NANOS_PER_MILLI;
        }
    }

    @Test
    void aTailLossProbeIntoAWindowBelowOnePayloadIsAPingNotData() {
        Harness h = new Harness(80);
        int sid = openStream(h, "/tlp");
        h.dropToServer = b -> true; // the packet and everything after it vanish: only the probe timer is left
        assertTrue(h.agent.send(sid, 0, new UnsafeBuffer(new byte[100]), 0, 100));
        int n = h.agent.poll(OUT, h.now);
        assertEquals(Wire.TYPE_DATA, OUT.getByte(1) & 0xFF);
        assertTrue(n > 0 && h.agent.bytesInFlight() == 100);
        AckFlyweight a = new AckFlyweight();
        UnsafeBuffer b = new UnsafeBuffer(new byte[Wire.ACK_FIXED_LENGTH]);
        a.wrapForEncode(b, 0, b.capacity());
        a.encode(h.agent.connectionId(), 0, 0, 0, h.agent.maxPayload() - 1, 0, 0); // acknowledges nothing
        a.seal();
        h.deliverRaw(b.byteArray(), false);
        long until = h.now + 15 * NANOS_PER_MILLI; // past the probe timeout, before the 20 ms minimum RTO
        int type = -1;
        while (h.now < until && type < 0) {
            h.now += 100_000;
            if (h.agent.poll(OUT, h.now) > 0) {
                type = OUT.getByte(1) & 0xFF;
            }
        }
        assertEquals(Wire.TYPE_PING, type, "the probe must not put DATA into a window below one payload");
    }

    // ------------------------------------------------------------------ wire-spec 3: WELCOME's window may be 0

    @Test
    void aZeroInitialWindowHoldsDataUntilTheServersUnsolicitedAckOpensIt() {
        Harness h = new Harness(79);
        long opensAt = h.now + 500 * NANOS_PER_MILLI;
        h.server.setWindowLimiter(new WindowLimiter() {
            @Override
            public void consume(String agentId, long bytes, long nowNs) {
            }

            @Override
            public long window(String agentId, long window, long minOpen, long nowNs) {
                return nowNs < opensAt ? 0 : window; // paused by the operator until then
            }

            @Override
            public long whenAllowed(String agentId, long bytes, long nowNs) {
                return opensAt;
            }
        });
        assertTrue(h.runUntil(() -> h.connected, 1000 * NANOS_PER_MILLI));
        assertEquals(0, h.agent.peerWindow(), "WELCOME's initial window");
        int sid = h.agent.openStream("/z", 1, null, 0); // control messages still go
        assertTrue(h.runUntil(() -> h.lastReplyStream == sid, 1000 * NANOS_PER_MILLI));
        byte[] data = EndToEndTest.randomBytes(79, 3000);
        assertTrue(h.agent.send(sid, 0, new UnsafeBuffer(data), 0, 1000));
        assertTrue(h.runUntil(() -> h.countSent(h.sentByAgent, Wire.TYPE_DATA) > 0, 2000 * NANOS_PER_MILLI));
        assertTrue(h.now >= opensAt, "DATA sent before the window opened");
        assertTrue(h.now < opensAt + 5 * NANOS_PER_MILLI,
            "the server's ACK opened it at once, no probe needed: " + (h.now - opensAt));
    }

    // ------------------------------------------------------------------ wire-spec 3/8/9: HELLO's fields

    /** HELLO, RETRY, HELLO with the token: the server's answer to the validated HELLO (or to the first). */
    private static MessageLite handshake(Harness h, Hello hello) {
        sendControl(h, 0, hello);
        MessageLite first = nextControl(h);
        if (!(first instanceof Retry r)) {
            return first;
        }
        sendControl(h, 0, hello.toBuilder().setToken(r.getToken()).build());
        return nextControl(h);
    }

    @Test
    void helloMaxDatagramSizeOutsideItsRangeIsRefusedAndZeroMeansTheDefault() {
        ServerEndpointConfig big = new ServerEndpointConfig(Wire.MAX_MAX_DATAGRAM, 1024, 1 << 20, 256 * 1024, 4096,
            30_000 * NANOS_PER_MILLI, 5000 * NANOS_PER_MILLI, NANOS_PER_MILLI, 30_000 * NANOS_PER_MILLI, 1000,
            10 * NANOS_PER_MILLI);
        Harness h = new Harness(77, big, AgentConnectionConfig.defaults("agent-1"));
        MessageLite tooSmall = handshake(h, Hello.newBuilder().setAgentId("small").setClientNonce(1)
            .setMaxDatagramSize(500).build());
        assertTrue(tooSmall instanceof Close c && c.getCode() == CloseCode.PROTOCOL_VIOLATION, "got " + tooSmall);
        MessageLite unsaid = handshake(h, Hello.newBuilder().setAgentId("unsaid").setClientNonce(2).build());
        assertTrue(unsaid instanceof Welcome, "got " + unsaid);
        assertEquals(Wire.DEFAULT_MAX_DATAGRAM, ((Welcome) unsaid).getMaxDatagramSize(),
            "0 means the default, never more than the agent can take");
        MessageLite jumbo = handshake(h, Hello.newBuilder().setAgentId("jumbo").setClientNonce(3)
            .setMaxDatagramSize(9000).build());
        assertEquals(9000, ((Welcome) jumbo).getMaxDatagramSize(), "the minimum of both sides");
    }

    @Test
    void helloWithAnAuthKeyIdIsRefusedNotAcceptedUnauthenticated() {
        Harness h = new Harness(78);
        MessageLite answer = handshake(h, Hello.newBuilder().setAgentId("keyed").setClientNonce(4).setAuthKeyId(7)
            .setMaxDatagramSize(1472).build());
        assertTrue(answer instanceof Close c && c.getCode() == CloseCode.PROTOCOL_VIOLATION, "got " + answer);
        assertEquals(0, h.server.connectionCount());
    }
}
