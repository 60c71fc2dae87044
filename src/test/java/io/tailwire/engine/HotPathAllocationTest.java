package io.tailwire.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;

import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Steady-state DATA/ACK exchange between the two endpoints, with preallocated buffers, must not allocate:
 * measured with the JVM's per-thread allocation counter (bytes, not time).
 */
class HotPathAllocationTest {
    static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
            .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    int sid = -1;
    boolean connected;
    long durableEvents;

    @Test
    void steadyStateDataAndAckAllocateNothingPerPacket() {
        FakeStore store = new FakeStore();
        ServerEndpoint server = new ServerEndpoint(ServerEndpointConfig.defaults(), new byte[] {1}, 1, store,
            ServerEvents.NONE);
        AgentEventHandler ev = new AgentEventHandler() {
            @Override public void onConnected(long c, long s) { connected = true; }
            @Override public void onStreamReply(int id, StreamStatus st, long r, long g, String m) { sid = id; }
            @Override public void onDurable(int id, long d) { durableEvents++; }
            @Override public void onStreamClosed(int id, long d) { }
            @Override public void onClosed(CloseCode c, String r, long ms) { throw new AssertionError(r); }
        };
        long now = 1_000_000_000L;
        AgentConnection agent = new AgentConnection(AgentConnectionConfig.defaults("a"), now, 2);
        InetSocketAddress addr = new InetSocketAddress("10.0.0.2", 5000);
        UnsafeBuffer a2s = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
        UnsafeBuffer s2a = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
        int n;
        for (int i = 0; i < 10 && sid < 0; i++) {
            while ((n = agent.poll(a2s, now)) > 0) {
                server.onDatagram(addr, a2s, 0, n, now);
            }
            while ((n = server.poll(s2a, now)) > 0) {
                agent.onDatagram(s2a, 0, n, now);
                AgentEventHandler.drain(agent, ev);
            }
            if (connected && i == 2) {
                agent.openStream("/hot", 1, null, 0);
            }
            now += 100_000;
        }
        assertTrue(sid > 0);
        byte[] payload = new byte[agent.maxPayload()];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        UnsafeBuffer src = new UnsafeBuffer(payload);
        long offset = 0;
        long before = 0;
        int packets = 0;
        store.streams.values().iterator().next().bytes = new byte[64 << 20]; // no growth while measuring
        for (int round = 0; round < 30_000; round++) {
            if (round == 10_000) {
                before = allocated();
                packets = 0;
                durableEvents = 0;
            }
            if (agent.sendSpace() >= payload.length) {
                agent.send(sid, offset, src, 0, payload.length);
                offset += payload.length;
            }
            while ((n = agent.poll(a2s, now)) > 0) {
                server.onDatagram(addr, a2s, 0, n, now);
                packets++;
            }
            if (round % 50 == 0) {
                server.onDurableAdvanced(); // as the writer thread's group commit does (the store is auto-durable)
            }
            while ((n = server.poll(s2a, now)) > 0) {
                agent.onDatagram(s2a, 0, n, now);
                AgentEventHandler.drain(agent, ev); // durable offsets arrive here: taking them allocates nothing
            }
            now += 20_000;
        }
        long used = allocated() - before;
        assertTrue(packets > 15_000, "packets " + packets + " " + agent.stats());
        // A few hundred bytes of slack for the measurement itself; per packet this is zero.
        assertTrue(used < 4096, "allocated " + used + " bytes over " + packets + " packets");
        assertTrue(durableEvents >= 100, "durable offsets were taken as events while measuring: " + durableEvents);
        FakeStore.Mem m = store.streams.values().iterator().next();
        assertTrue(m.held > 15_000L * payload.length && m.held <= offset);
        byte[] first = new byte[payload.length];
        long lastWhole = (m.held / payload.length - 1) * payload.length;
        System.arraycopy(m.bytes, (int) lastWhole, first, 0, first.length);
        assertArrayEquals(payload, first);
    }
}
