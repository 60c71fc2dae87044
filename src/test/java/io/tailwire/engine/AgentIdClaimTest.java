package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import com.google.protobuf.ByteString;

import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 item 2: two agents with the same agent_id (two hosts, both named by default after a host name
 * that is not unique) wrote one copy in turns, interleaving two sources. Now a live connection's holder
 * keeps the id against another instance; only the same instance (the same agent restarted) takes over.
 * Virtual time, lossless network, the server's replies routed by destination address.
 */
class AgentIdClaimTest {
    static final String ID = "web-01";
    static final String PATH = "/var/log/app.log";

    final FakeStore store = new FakeStore();
    final List<String[]> conflicts = new ArrayList<>();
    final ServerEndpoint server = new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), 11, store,
        new ServerEvents() {
            @Override
            public void onAgentIdInUse(String agentId, InetSocketAddress holder, InetSocketAddress refused) {
                conflicts.add(new String[] {agentId, holder.toString(), refused.toString()});
            }
        });
    final List<Claimant> claimants = new ArrayList<>();
    final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    long now = 1_000 * NANOS_PER_MILLI;

    /** One agent process: an instance identity, an address, a source file it ships on connect. */
    final class Claimant implements AgentEventHandler {
        final InetSocketAddress address;
        final ByteString instance;
        final byte[] source;
        AgentConnection conn;
        int streamId = -1;
        long offset;
        boolean connected;
        CloseCode closedCode;
        boolean running = true;

        Claimant(String host, int port, ByteString instance, byte[] source, long seed) {
            this.address = new InetSocketAddress(host, port);
            this.instance = instance;
            this.source = source;
            this.conn = new AgentConnection(AgentConnectionConfig.defaults(ID).withInstanceId(instance), now, seed);
            claimants.add(this);
        }

        /** Reconnects as AgentCore does after a close (its back-off is not what is tested here). */
        void reconnect(long seed) {
            connected = false;
            closedCode = null;
            conn = new AgentConnection(AgentConnectionConfig.defaults(ID).withInstanceId(instance), now, seed);
        }

        void feed() {
            if (!connected || streamId < 0 || offset < 0) {
                return;
            }
            UnsafeBuffer src = new UnsafeBuffer(source);
            while (offset < source.length && conn.sendSpace() > 0) {
                int n = (int) Math.min(Math.min(conn.maxPayload(), source.length - offset), conn.sendSpace());
                if (!conn.send(streamId, offset, src, (int) offset, n)) {
                    break;
                }
                offset += n;
            }
        }

        @Override
        public void onConnected(long connectionId, long serverInstance) {
            connected = true;
            streamId = conn.openStream(PATH, 1, null, 0);
            offset = -1;
        }

        @Override
        public void onStreamReply(int streamId, StreamStatus status, long resumeOffset, long generation, String m) {
            assertEquals(StreamStatus.OK, status);
            offset = resumeOffset;
        }

        @Override
        public void onDurable(int streamId, long durableOffset) {
        }

        @Override
        public void onStreamClosed(int streamId, long durableLength) {
        }

        @Override
        public void onClosed(CloseCode code, String reason, long retryAfterMs) {
            connected = false;
            closedCode = code;
        }
    }

    void step() {
        for (Claimant c : claimants) {
            if (!c.running) {
                continue;
            }
            c.feed();
            int n;
            while ((n = c.conn.poll(out, now)) > 0) {
                server.onDatagram(c.address, out, 0, n, now);
            }
            AgentEventHandler.drain(c.conn, c);
        }
        int n;
        while ((n = server.poll(out, now)) > 0) {
            for (Claimant c : claimants) {
                if (c.running && c.address.equals(server.lastDestination())) {
                    c.conn.onDatagram(out, 0, n, now);
                    AgentEventHandler.drain(c.conn, c);
                }
            }
        }
        store.sync();
        server.onDurableAdvanced();
        now += NANOS_PER_MILLI;
    }

    boolean runUntil(BooleanSupplier done, long ns) {
        long end = now + ns;
        while (!done.getAsBoolean()) {
            if (now > end) {
                return false;
            }
            step();
        }
        return true;
    }

    static byte[] lines(char c, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 40 == 39 ? '\n' : c);
        }
        return b;
    }

    static ByteString instance(int seed) {
        byte[] b = new byte[16];
        new java.util.SplittableRandom(seed).nextBytes(b);
        return ByteString.copyFrom(b);
    }

    @Test
    void aSecondAgentWithTheSameIdIsRefusedAndNeverWritesTheCopy() {
        byte[] first = lines('a', 350_000);
        byte[] second = lines('b', 50_000);
        Claimant a = new Claimant("10.0.0.1", 40000, instance(1), first, 1);
        assertTrue(runUntil(() -> a.offset == first.length && a.conn.allAcked(), 10_000 * NANOS_PER_MILLI));
        Claimant b = new Claimant("10.0.0.2", 40000, instance(2), second, 2);
        assertTrue(runUntil(() -> b.closedCode != null, 2_000 * NANOS_PER_MILLI));
        assertEquals(CloseCode.AGENT_ID_IN_USE, b.closedCode);
        // It keeps retrying, and keeps being refused while the holder lives (keepalives prove it does).
        for (int attempt = 0; attempt < 5; attempt++) {
            b.reconnect(100 + attempt);
            assertTrue(runUntil(() -> b.closedCode != null, 2_000 * NANOS_PER_MILLI));
            assertEquals(CloseCode.AGENT_ID_IN_USE, b.closedCode);
            runUntil(() -> false, 3_000 * NANOS_PER_MILLI);
        }
        assertTrue(a.connected, "the holder was never knocked off");
        assertEquals(1, server.connectionCount());
        assertEquals(6, server.agentIdRefusals());
        assertEquals(1, conflicts.size(), "logged once per episode, not per HELLO");
        assertEquals("/10.0.0.1:40000", conflicts.get(0)[1]);
        assertEquals("/10.0.0.2:40000", conflicts.get(0)[2]);
        assertArrayEquals(first, store.get(ID, PATH, 1).content(), "the copy holds the first source only");
    }

    @Test
    void theSameInstanceRestartingTakesOverAndResumesWithoutRepeatingAByte() {
        byte[] source = lines('r', 200_000);
        Claimant before = new Claimant("10.0.0.1", 40000, instance(7), source, 7);
        assertTrue(runUntil(() -> before.offset >= 100_000, 10_000 * NANOS_PER_MILLI));
        long oldConnection = before.conn.connectionId();
        // Killed and restarted from the same state directory: same instance, new port, old connection live.
        before.running = false;
        Claimant after = new Claimant("10.0.0.1", 40001, instance(7), source, 8);
        assertTrue(runUntil(() -> after.offset == source.length && after.conn.allAcked(), 10_000 * NANOS_PER_MILLI));
        assertNotEquals(oldConnection, after.conn.connectionId());
        assertEquals(1, server.connectionCount());
        assertEquals(0, server.agentIdRefusals());
        assertArrayEquals(source, store.get(ID, PATH, 1).content());
    }

    @Test
    void anotherInstanceMayClaimTheIdOnceTheHolderIsSilentForTheIdleTimeout() {
        Claimant a = new Claimant("10.0.0.1", 40000, instance(3), lines('a', 10_000), 3);
        assertTrue(runUntil(() -> a.connected, 1_000 * NANOS_PER_MILLI));
        a.running = false; // the host went away without CLOSE
        Claimant b = new Claimant("10.0.0.2", 40000, instance(4), lines('b', 10_000), 4);
        assertTrue(runUntil(() -> b.closedCode != null, 2_000 * NANOS_PER_MILLI));
        assertEquals(CloseCode.AGENT_ID_IN_USE, b.closedCode);
        runUntil(() -> false, 30_000 * NANOS_PER_MILLI);
        b.reconnect(5);
        assertTrue(runUntil(() -> b.connected, 2_000 * NANOS_PER_MILLI), "after the idle timeout the id is free");
    }
}
