package io.tailwire.agent;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.engine.StreamStore;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Many agents hit a (re)started server that takes only a few connections: the rest are told BUSY with
 * retry_after_ms, and their retries (capped, jittered back-off in AgentCore) must respect the hint and
 * be spread out rather than arrive as one burst. Virtual time; AgentCore and ServerEndpoint directly.
 */
class RetrySpreadTest {
    private record Pkt(long at, long seq, int agent, boolean toServer, byte[] bytes) {
    }

    @Test
    void busyAgentsRetryAfterTheHintAndSpreadOverTime() throws Exception {
        long seed = 41;
        int agents = 200;
        int retryAfterMs = 1000;
        ServerEndpointConfig d = ServerEndpointConfig.defaults();
        ServerEndpointConfig cfg = new ServerEndpointConfig(d.maxDatagramSize(), 10, d.connectionBudgetBytes(),
            d.initialWindow(), d.maxStreamsPerConnection(), d.idleTimeoutNs(), d.keepaliveNs(), d.maxAckDelayNs(),
            d.tokenValidityNs(), retryAfterMs, d.appendRetryNs());
        StreamStore noStore = (agentId, request) -> new StreamStore.OpenResult(StreamStatus.BAD_PATH, 0, 0, "", null);
        ServerEndpoint server = new ServerEndpoint(cfg, "secret".getBytes(), seed, noStore, ServerEvents.NONE);

        long now = 1_000 * NANOS_PER_MILLI;
        MemFs fs = new MemFs();
        AgentCore[] cores = new AgentCore[agents];
        InetSocketAddress[] addrs = new InetSocketAddress[agents];
        long[] busyAt = new long[agents];
        long[] retryAt = new long[agents];
        Arrays.fill(busyAt, -1);
        Arrays.fill(retryAt, -1);
        for (int i = 0; i < agents; i++) {
            int idx = i;
            cores[i] = new AgentCore(AgentConnectionConfig.defaults("agent-" + i), TailerConfig.of(List.of("/none/*.log")),
                fs, null, new PollBackoff(), seed * 1000 + i, new AgentCore.Listener() {
                    @Override
                    public void info(String message) {
                    }

                    @Override
                    public void warn(String message) {
                    }
                });
            cores[i].start(now);
            addrs[i] = new InetSocketAddress("10.1." + (i / 250) + "." + (i % 250 + 1), 40000);
        }
        PriorityQueue<Pkt> net = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
            : Long.compare(a.seq, b.seq));
        UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
        long seq = 0;
        long end = now + 6_000 * NANOS_PER_MILLI;
        while (now < end) {
            for (int i = 0; i < agents; i++) {
                int len;
                while ((len = cores[i].poll(out, now)) > 0) {
                    byte[] b = new byte[len];
                    out.getBytes(0, b);
                    if ((b[1] & 0xFF) == Wire.TYPE_HELLO && busyAt[i] >= 0 && retryAt[i] < 0) {
                        retryAt[i] = now;
                    }
                    net.add(new Pkt(now + NANOS_PER_MILLI, seq++, i, true, b));
                }
            }
            int len;
            while ((len = server.poll(out, now)) > 0) {
                byte[] b = new byte[len];
                out.getBytes(0, b);
                int to = Arrays.asList(addrs).indexOf(server.lastDestination());
                net.add(new Pkt(now + NANOS_PER_MILLI, seq++, to, false, b));
            }
            long next = Math.min(server.nextDeadline(), net.isEmpty() ? Long.MAX_VALUE : net.peek().at);
            for (AgentCore c : cores) {
                next = Math.min(next, c.nextDeadline());
            }
            now = next <= now ? now + 1000 : Math.min(next, now + 100 * NANOS_PER_MILLI);
            while (!net.isEmpty() && net.peek().at <= now) {
                Pkt p = net.poll();
                UnsafeBuffer b = new UnsafeBuffer(p.bytes);
                if (p.toServer) {
                    server.onDatagram(addrs[p.agent], b, 0, p.bytes.length, now);
                } else {
                    boolean busy = (p.bytes[1] & 0xFF) == Wire.TYPE_CLOSE;
                    cores[p.agent].onDatagram(b, 0, p.bytes.length, now);
                    if (busy && busyAt[p.agent] < 0 && cores[p.agent].connection() == null) {
                        busyAt[p.agent] = now;
                    }
                }
            }
        }
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < agents; i++) {
            if (busyAt[i] >= 0) {
                assertTrue(retryAt[i] >= 0, "agent " + i + " never retried, seed " + seed);
                delays.add(retryAt[i] - busyAt[i]);
            }
        }
        assertEquals(agents - 10, delays.size(), "all but the 10 admitted were told BUSY, seed " + seed);
        delays.sort(null);
        String info = "seed " + seed + " first " + delays.get(0) / NANOS_PER_MILLI + " ms, last "
            + delays.get(delays.size() - 1) / NANOS_PER_MILLI + " ms";
        assertTrue(delays.get(0) >= retryAfterMs * NANOS_PER_MILLI, "a retry came before retry_after_ms: " + info);
        assertTrue(delays.get(delays.size() - 1) - delays.get(0) >= retryAfterMs * NANOS_PER_MILLI / 2,
            "retries bunched together: " + info);
        // No 50 ms slot gets more than 15% of the retries (uniform spread over ~1 s gives about 5%).
        int maxInSlot = 0;
        for (int a = 0, b = 0; a < delays.size(); a++) {
            while (b < delays.size() && delays.get(b) - delays.get(a) < 50 * NANOS_PER_MILLI) {
                b++;
            }
            maxInSlot = Math.max(maxInSlot, b - a);
        }
        assertTrue(maxInSlot <= delays.size() * 15 / 100, maxInSlot + " retries within 50 ms: " + info);
    }
}
