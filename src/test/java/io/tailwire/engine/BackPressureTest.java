package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.Welcome;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** Server-side back pressure through the advertised window: limiter, memory share, storage refusal. */
class BackPressureTest {
    /** Ships {@code data} on one stream, calling {@code hook} with the virtual time after every step. */
    static boolean ship(Harness h, byte[] data, long maxNs, LongConsumer hook) {
        long end = h.now + maxNs;
        if (!h.runUntil(() -> h.connected, maxNs)) {
            return false;
        }
        int sid = h.agent.openStream("/var/log/app.log", 1, null, 0);
        if (!h.runUntil(() -> h.lastReplyStream == sid, end - h.now) || h.lastStatus != StreamStatus.OK) {
            return false;
        }
        long offset = 0;
        boolean closing = false;
        UnsafeBuffer src = new UnsafeBuffer(data);
        while (h.closedDurable < 0) {
            if (h.now > end || h.closedCode != null) {
                return false;
            }
            while (offset < data.length && h.agent.sendSpace() > 0) {
                int n = (int) Math.min(Math.min(h.agent.maxPayload(), data.length - offset), h.agent.sendSpace());
                if (!h.agent.send(sid, offset, src, (int) offset, n)) {
                    break;
                }
                offset += n;
            }
            if (offset == data.length && !closing && h.agent.allAcked()) {
                h.agent.closeStream(sid, data.length);
                closing = true;
            }
            h.step();
            hook.accept(h.now);
        }
        return true;
    }

    private static byte[] data(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static List<Long> ackWindows(List<byte[]> sent) {
        AckFlyweight ack = new AckFlyweight();
        List<Long> w = new ArrayList<>();
        for (byte[] b : sent) {
            if (Harness.type(b) == Wire.TYPE_ACK) {
                ack.wrap(new UnsafeBuffer(b), 0, b.length);
                w.add(ack.window());
            }
        }
        return w;
    }

    private static long welcomeWindow(List<byte[]> sent) {
        for (byte[] b : sent) {
            if (Harness.type(b) == Wire.TYPE_WELCOME) {
                return ((Welcome) ControlCodec.decodeBody(Wire.TYPE_WELCOME, new UnsafeBuffer(b), 0, b.length))
                    .getInitialWindow();
            }
        }
        throw new AssertionError("no WELCOME");
    }

    @Test
    void everyAdvertisedWindowIncludingWelcomeIsCappedByTheLimiter() {
        long seed = 11;
        Harness h = new Harness(seed);
        long cap = 3L * (Wire.DEFAULT_MAX_DATAGRAM - Wire.DATA_HEADER_LENGTH);
        List<Long> consumed = new ArrayList<>();
        h.server.setWindowLimiter(new WindowLimiter() {
            @Override
            public void consume(String agentId, long bytes, long nowNs) {
                consumed.add(bytes);
            }

            @Override
            public long window(String agentId, long window, long minOpen, long nowNs) {
                return Math.min(window, cap);
            }

            @Override
            public long whenAllowed(String agentId, long bytes, long nowNs) {
                return nowNs;
            }
        });
        h.loss = 0.05; // duplicates and retransmissions must not be consumed twice
        h.dup = 0.05;
        byte[] d = data(seed, 300_000);
        assertTrue(ship(h, d, 60_000 * NANOS_PER_MILLI, t -> { }), "seed " + seed);
        assertArrayEquals(d, h.store.get("agent-1", "/var/log/app.log", 1).content());
        assertTrue(welcomeWindow(h.sentByServer) <= cap);
        List<Long> w = ackWindows(h.sentByServer);
        assertTrue(w.stream().allMatch(x -> x <= cap), "an ACK advertised more than the limiter allows: " + w);
        assertEquals(0, h.windowViolations);
        assertEquals(d.length, consumed.stream().mapToLong(Long::longValue).sum(),
            "the limiter is told each new payload byte exactly once");
    }

    @Test
    void windowClosedByTheLimiterReopensWithAnUnsolicitedAckEvenWhenProbesAreLost() {
        long seed = 12;
        Harness h = new Harness(seed);
        long openAt = h.now + 3_000 * NANOS_PER_MILLI;
        h.server.setWindowLimiter(new WindowLimiter() {
            @Override
            public void consume(String agentId, long bytes, long nowNs) {
            }

            @Override
            public long window(String agentId, long window, long minOpen, long nowNs) {
                return nowNs < openAt ? 0 : window;
            }

            @Override
            public long whenAllowed(String agentId, long bytes, long nowNs) {
                return Math.max(nowNs, openAt);
            }
        });
        // Every PING (the agent's zero-window probe) is lost: only the server's timer can reopen the flow.
        h.dropToServer = b -> Harness.type(b) == Wire.TYPE_PING;
        long[] firstData = {-1};
        int[] agentSent = {0};
        byte[] d = data(seed, 100_000);
        assertTrue(ship(h, d, 30_000 * NANOS_PER_MILLI, t -> {
            for (; agentSent[0] < h.sentByAgent.size(); agentSent[0]++) {
                if (firstData[0] < 0 && Harness.type(h.sentByAgent.get(agentSent[0])) == Wire.TYPE_DATA) {
                    firstData[0] = t;
                }
            }
        }), "seed " + seed);
        assertEquals(0, welcomeWindow(h.sentByServer));
        assertTrue(firstData[0] >= openAt, "agent sent DATA before the window opened");
        assertTrue(firstData[0] < openAt + 500 * NANOS_PER_MILLI, "the reopening ACK came late: " + (firstData[0] - openAt));
        assertArrayEquals(d, h.store.get("agent-1", "/var/log/app.log", 1).content());
    }

    @Test
    void storageRefusalClosesTheWindowAndTransferResumesWithoutLossOrDuplicates() {
        long seed = 13;
        Harness h = new Harness(seed);
        List<String> events = new ArrayList<>();
        h.server = new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), seed, h.store,
            new ServerEvents() {
                @Override
                public void onStorageStalled(String agentId, String path, boolean stalled) {
                    events.add(stalled ? "stalled " + path : "resumed");
                }
            });
        h.syncEveryNs = 20 * NANOS_PER_MILLI;
        h.store.autoDurable = false;
        byte[] d = data(seed, 2_000_000);
        long[] failFrom = {-1};
        long[] heldAtFail = {-1};
        long[] durableAtFail = {-1};
        long failFor = 5_000 * NANOS_PER_MILLI;
        List<Long> windowsWhileFailing = new ArrayList<>();
        int[] seen = {0};
        boolean ok = ship(h, d, 120_000 * NANOS_PER_MILLI, t -> {
            FakeStore.Mem m = h.store.get("agent-1", "/var/log/app.log", 1);
            if (m == null) {
                return;
            }
            if (failFrom[0] < 0 && m.held > d.length / 3) {
                failFrom[0] = t;
                h.store.refuseAppends = true; // disk full
                seen[0] = h.sentByServer.size();
            } else if (failFrom[0] >= 0 && h.store.refuseAppends) {
                if (heldAtFail[0] < 0) {
                    heldAtFail[0] = m.held;
                    durableAtFail[0] = m.durable;
                }
                assertEquals(heldAtFail[0], m.held, "bytes written while the store refuses");
                if (t - failFrom[0] > failFor) {
                    windowsWhileFailing.addAll(ackWindows(h.sentByServer.subList(seen[0], h.sentByServer.size())));
                    h.store.refuseAppends = false; // space is back
                }
            }
        });
        assertTrue(ok, "transfer did not complete, seed " + seed);
        assertArrayEquals(d, h.store.get("agent-1", "/var/log/app.log", 1).content(),
            "output differs: lost or duplicated bytes");
        assertTrue(heldAtFail[0] < d.length, "the fault came too late to matter");
        assertTrue(!windowsWhileFailing.isEmpty() && windowsWhileFailing.get(windowsWhileFailing.size() - 1) == 0,
            "window not closed while storage refuses: " + windowsWhileFailing);
        assertEquals(List.of("stalled /var/log/app.log", "resumed"), events, "one line when it stalls, one when it resumes");
        // The agent never had more in flight than the server's window allowed.
        assertEquals(0, h.windowViolations);
    }

    @Test
    void memoryShareShrinksWithActiveConnections() {
        long mps = Wire.DEFAULT_MAX_DATAGRAM - Wire.DATA_HEADER_LENGTH;
        long budget = 64 * mps;
        ServerEndpointConfig cfg = ServerEndpointConfig.defaults().withBudget(1 << 20, (int) (8 * mps));
        MultiAgentNet net = new MultiAgentNet(21, cfg, 4, Long.MAX_VALUE, 0, 5 * NANOS_PER_MILLI);
        net.server.setMemoryBudget(budget);
        net.store.autoDurable = false;
        net.syncEveryNs = 50 * NANOS_PER_MILLI; // a slow disk: unsynced bytes occupy the share
        net.trackOccupancy = true;
        net.run(3_000 * NANOS_PER_MILLI);
        assertEquals(4, net.server.activeConnections());
        long share = budget / 4;
        assertTrue(net.maxAdvertisedAfterAllActive > 0 && net.maxAdvertisedAfterAllActive <= share,
            "window above budget/active: " + net.maxAdvertisedAfterAllActive + " > " + share);
        assertTrue(net.maxOccupancy <= budget + 4 * cfg.initialWindow(),
            "memory held beyond the budget: " + net.maxOccupancy);
        assertTrue(net.totalDelivered() > 0);
    }

    @Test
    void lossReportsAreCountedOnceThoughTheAgentRepeatsThem() {
        long seed = 14;
        Harness h = new Harness(seed);
        List<String> reports = new ArrayList<>();
        h.server = new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), seed, h.store,
            new ServerEvents() {
                @Override
                public void onLossReport(String agentId, String path, long generation, long from, long to,
                                         String reason) {
                    reports.add(agentId + " " + path + " " + from + ".." + to);
                }
            });
        assertTrue(h.runUntil(() -> h.connected, 5_000 * NANOS_PER_MILLI));
        int sid = h.agent.openStream("/var/log/app.log", 1, null, 0);
        assertTrue(h.runUntil(() -> h.lastReplyStream == sid, 5_000 * NANOS_PER_MILLI));
        h.agent.reportLoss(sid, 100, 600, "rotated away");
        h.runUntil(() -> false, 1_000 * NANOS_PER_MILLI);
        h.agent.reportLoss(sid, 400, 900, "rotated away"); // overlaps the first: only 600..900 is new
        h.runUntil(() -> false, 1_000 * NANOS_PER_MILLI);
        assertTrue(h.countSent(h.sentByAgent, Wire.TYPE_LOSS_REPORT) >= 4, "the agent repeats its reports");
        assertEquals(800, h.server.lossReportedBytes());
        assertEquals(List.of("agent-1 /var/log/app.log 100..600", "agent-1 /var/log/app.log 600..900"), reports);
    }
}
