package io.tailwire.server.store;

import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.AgentEventHandler;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.io.RealFs;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.StreamStatus;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static io.tailwire.server.store.StoreTestSupport.bytes;
import static io.tailwire.server.store.StoreTestSupport.read;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The server engine over the real OutputStore, with one agent connection on a lossless virtual network:
 * misuse of generations (issue 11 items 4 and 5) is refused as such, never taken for a disk error.
 */
class ServerEndpointGenerationTest {
    static final InetSocketAddress AGENT = new InetSocketAddress("10.0.0.1", 40000);

    @TempDir
    Path tmp;
    final StoreTestSupport.Log storeLog = new StoreTestSupport.Log();
    final List<String> stalls = new ArrayList<>();
    OutputStore store;
    ServerEndpoint server;
    final Agent agent = new Agent();
    AgentConnection conn;
    long now = 1_000 * NANOS_PER_MILLI;

    final class Agent implements AgentEventHandler {
        final Map<Integer, StreamStatus> status = new HashMap<>();
        final Map<Integer, Long> resume = new HashMap<>();
        final Map<Integer, Long> closed = new HashMap<>();
        CloseCode closeCode;
        String closeReason;

        @Override
        public void onConnected(long connectionId, long serverInstance) {
        }

        @Override
        public void onStreamReply(int id, StreamStatus st, long resumeOffset, long generation, String message) {
            status.put(id, st);
            resume.put(id, resumeOffset);
        }

        @Override
        public void onDurable(int streamId, long durableOffset) {
        }

        @Override
        public void onStreamClosed(int streamId, long durableLength) {
            closed.put(streamId, durableLength);
        }

        @Override
        public void onClosed(CloseCode code, String reason, long retryAfterMs) {
            closeCode = code;
            closeReason = reason;
        }
    }

    void start() throws IOException {
        store = new OutputStore(RealFs.INSTANCE, tmp.resolve("out"), OutputStore.Config.DEFAULT, storeLog);
        server = new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), 7, store,
            new ServerEvents() {
                @Override
                public void onStorageStalled(String agentId, String path, boolean stalled) {
                    stalls.add(path + " " + stalled);
                }
            });
        agent.status.clear(); // a new connection numbers its streams from 1 again
        agent.resume.clear();
        agent.closed.clear();
        conn = new AgentConnection(AgentConnectionConfig.defaults("a"), now, 7);
        assertTrue(run(() -> conn.state() == AgentConnection.State.CONNECTED));
    }

    @AfterEach
    void stop() {
        if (store != null) {
            store.close();
        }
    }

    /** Moves datagrams both ways (no loss, no delay) and forces the store each round, until done. */
    boolean run(BooleanSupplier done) {
        UnsafeBuffer out = new UnsafeBuffer(new byte[65536]);
        long end = now + 10_000 * NANOS_PER_MILLI;
        while (!done.getAsBoolean()) {
            if (now > end) {
                return false;
            }
            for (int n; (n = conn.poll(out, now)) > 0; ) {
                server.onDatagram(AGENT, new UnsafeBuffer(copy(out, n)), 0, n, now);
            }
            AgentEventHandler.drain(conn, agent);
            for (int n; (n = server.poll(out, now)) > 0; ) {
                if (AGENT.equals(server.lastDestination())) {
                    conn.onDatagram(new UnsafeBuffer(copy(out, n)), 0, n, now);
                    AgentEventHandler.drain(conn, agent);
                }
            }
            if (store.syncDirty() > 0) {
                server.onDurableAdvanced();
            }
            now += NANOS_PER_MILLI;
        }
        return true;
    }

    static byte[] copy(UnsafeBuffer b, int n) {
        byte[] c = new byte[n];
        b.getBytes(0, c);
        return c;
    }

    int open(String path, long gen, long prev) {
        int id = conn.openStream(path, gen, FileIdentity.getDefaultInstance(), prev);
        assertTrue(run(() -> agent.status.containsKey(id)));
        return id;
    }

    void send(int id, long offset, String text) {
        byte[] b = bytes(text);
        assertTrue(conn.send(id, offset, new UnsafeBuffer(b), 0, b.length));
    }

    @Test
    void nextGenerationWithAWrongPreviousLengthIsRefusedAndTheConnectionKeepsWorking() throws IOException {
        start();
        int g1 = open("/f", 1, 0);
        send(g1, 0, "abc");
        assertTrue(run(conn::allAcked));
        int g2 = open("/f", 2, 10); // generation 1 holds 3, not 10
        assertEquals(StreamStatus.PREVIOUS_GENERATION_OPEN, agent.status.get(g2));
        assertEquals(3, agent.resume.get(g2));
        int other = open("/other", 1, 0);
        send(other, 0, "zz");
        send(g1, 3, "def");
        conn.closeStream(other, 2);
        assertTrue(run(() -> agent.closed.containsKey(other)), "an unrelated STREAM_CLOSE is answered");
        assertEquals(2, agent.closed.get(other));
        assertTrue(run(conn::allAcked));
        assertEquals(List.of(), stalls, "no storage stall");
        assertNull(agent.closeCode);
        assertArrayEquals(bytes("abcdef"), read(tmp.resolve("out/a/f")));
    }

    @Test
    void dataForAGenerationClosedByTheNextOneIsAProtocolViolationNotAStorageStall() throws IOException {
        start();
        int g1 = open("/f", 1, 0);
        send(g1, 0, "abc");
        assertTrue(run(conn::allAcked));
        int g2 = open("/f", 2, 3); // closes generation 1 at 3
        assertEquals(StreamStatus.OK, agent.status.get(g2));
        send(g1, 3, "def");
        assertTrue(run(() -> agent.closeCode != null));
        assertEquals(CloseCode.PROTOCOL_VIOLATION, agent.closeCode);
        assertTrue(agent.closeReason.contains("past its final length 3"), agent.closeReason);
        assertEquals(List.of(), stalls);
        assertArrayEquals(bytes("abc"), read(tmp.resolve("out/a/f")));
    }

    @Test
    void aClosedGenerationIsAnsweredGenerationClosedAfterAServerRestart() throws IOException {
        start();
        int g1 = open("/f", 1, 0);
        send(g1, 0, "abc");
        conn.closeStream(g1, 3);
        assertTrue(run(() -> agent.closed.containsKey(g1)));
        assertEquals(3, agent.closed.get(g1));
        store.close();
        start(); // a new server process over the same directory; the agent never saved the close
        int again = open("/f", 1, 0);
        assertEquals(StreamStatus.GENERATION_CLOSED, agent.status.get(again));
        assertEquals(3, agent.resume.get(again));
        assertArrayEquals(bytes("abc"), read(tmp.resolve("out/a/f")));
    }

    @Test
    void streamCloseBelowWhatTheServerHoldsIsAProtocolViolation() throws IOException {
        start();
        int g1 = open("/f", 1, 0);
        send(g1, 0, "abcdef");
        assertTrue(run(conn::allAcked));
        conn.closeStream(g1, 4);
        assertTrue(run(() -> agent.closeCode != null));
        assertEquals(CloseCode.PROTOCOL_VIOLATION, agent.closeCode);
        assertFalse(agent.closed.containsKey(g1));
    }

    @Test
    void streamClosePastAReportedLossIsAProtocolViolation() throws IOException {
        start();
        int g1 = open("/f", 1, 0);
        send(g1, 0, "0123456789");
        assertTrue(run(conn::allAcked));
        conn.reportLoss(g1, 10, 30, "truncated before shipped");
        long until = now + 20 * NANOS_PER_MILLI;
        assertTrue(run(() -> now > until)); // the report arrives before the close
        conn.closeStream(g1, 30); // the loss [10,30) ended the generation at 10 (wire-spec.md 6.5)
        assertTrue(run(() -> agent.closeCode != null));
        assertEquals(CloseCode.PROTOCOL_VIOLATION, agent.closeCode);
        assertTrue(agent.closeReason.contains("reported loss"), agent.closeReason);
    }

    @Test
    void theEngineNoticesARenamedCopyWhileTheStreamStaysOpen() throws IOException {
        start();
        int g1 = open("/f", 1, 0);
        send(g1, 0, "abc");
        assertTrue(run(conn::allAcked));
        java.nio.file.Files.move(tmp.resolve("out/a/f"), tmp.resolve("out/a/f.1"));
        long until = now + MovedCopies.MOVED_CHECK_INTERVAL_NS + 10 * NANOS_PER_MILLI;
        assertTrue(run(() -> now > until)); // the engine's polls give the store its periodic check
        send(g1, 3, "def");
        conn.closeStream(g1, 6);
        assertTrue(run(() -> agent.closed.containsKey(g1)));
        assertEquals(6, agent.closed.get(g1));
        assertArrayEquals(bytes("abc"), read(tmp.resolve("out/a/f.1")));
        assertArrayEquals(bytes("def"), read(tmp.resolve("out/a/f")));
        assertEquals(1, storeLog.count("moved away"));
    }

    /** Issue 13 item 8 over the real store: generations may be skipped, never pushed to where n+1 wraps. */
    @Test
    void aSkippedGenerationStillWorksAndOneNoAgentCouldReachIsRefused() throws IOException {
        start();
        int g1 = open("/f", 1, 0);
        send(g1, 0, "abc");
        assertTrue(run(conn::allAcked));
        int g5 = open("/f", 5, 3); // 2..4 were deleted while the agent was away
        assertEquals(StreamStatus.OK, agent.status.get(g5));
        assertEquals(0, agent.resume.get(g5));
        send(g5, 0, "def");
        assertTrue(run(conn::allAcked));
        conn.openStream("/f", -1L, FileIdentity.getDefaultInstance(), 3); // 2^64-1: before, the next one was 0
        assertTrue(run(() -> agent.closeCode != null));
        assertEquals(CloseCode.PROTOCOL_VIOLATION, agent.closeCode);
        start();
        int again = open("/f", 5, 3);
        assertEquals(StreamStatus.OK, agent.status.get(again));
        assertEquals(3, agent.resume.get(again), "generation 5 is still the newest, nothing wrapped");
        assertArrayEquals(bytes("abcdef"), read(tmp.resolve("out/a/f")));
    }
}
