package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.wire.Wire;

import org.junit.jupiter.api.Test;

/**
 * Congestion control on the agent (wire-spec.md 7.3) with several agents sharing one server through a
 * drop-tail bottleneck, in virtual time: they share it fairly and keep its queue from overflowing much;
 * and one agent on a clean path is limited by the server's window, not by its congestion window.
 */
class CongestionSharingTest {
    private static double jain(double[] x) {
        double sum = 0;
        double sq = 0;
        for (double v : x) {
            sum += v;
            sq += v * v;
        }
        return sum * sum / (x.length * sq);
    }

    @Test
    void fourAgentsThroughOneBottleneckShareItFairlyWithFewDrops() {
        long seed = 31;
        long rate = 4_000_000; // bytes per second
        long queueLimit = 96 * 1024;
        MultiAgentNet net = new MultiAgentNet(seed, ServerEndpointConfig.defaults(), 4, rate, queueLimit, 10 * NANOS_PER_MILLI);
        net.run(2_000 * NANOS_PER_MILLI); // past slow start
        net.mark();
        long dropsBefore = net.queueDrops;
        long packetsBefore = net.packetsIntoQueue;
        long measureNs = 5_000 * NANOS_PER_MILLI;
        net.run(measureNs);
        double[] got = new double[4];
        double total = 0;
        for (int i = 0; i < 4; i++) {
            got[i] = net.deliveredSinceMark(i);
            total += got[i];
        }
        double fairness = jain(got);
        double utilisation = total / (rate * (measureNs / 1e9));
        double dropRate = (net.queueDrops - dropsBefore) / (double) (net.packetsIntoQueue - packetsBefore);
        String info = "seed " + seed + " delivered " + java.util.Arrays.toString(got) + " jain " + fairness
            + " utilisation " + utilisation + " drop rate " + dropRate + " max queue " + net.maxQueueBytes;
        assertTrue(fairness >= 0.9, info);
        assertTrue(utilisation >= 0.7, "the agents leave the bottleneck idle: " + info);
        assertTrue(dropRate < 0.05, "congestion control does not back off: " + info);
        long mps = Wire.DEFAULT_MAX_DATAGRAM - Wire.DATA_HEADER_LENGTH;
        assertTrue(net.maxInFlightOverCwnd < mps, "in flight beyond cwnd by " + net.maxInFlightOverCwnd);
    }

    /**
     * After a loss burst (the path drops everything for 300 ms: timeouts, cwnd to its minimum) the agents
     * regain their throughput through the bottleneck within a second, and share it fairly again.
     */
    @Test
    void throughputThroughTheBottleneckRecoversAfterALossBurst() {
        long seed = 33;
        long rate = 4_000_000;
        MultiAgentNet net = new MultiAgentNet(seed, ServerEndpointConfig.defaults(), 3, rate, 96 * 1024, 10 * NANOS_PER_MILLI);
        net.run(2_000 * NANOS_PER_MILLI);
        net.mark();
        net.run(2_000 * NANOS_PER_MILLI);
        double before = 0;
        for (int i = 0; i < 3; i++) {
            before += net.deliveredSinceMark(i);
        }
        net.lossBurst(300 * NANOS_PER_MILLI);
        net.run(1_300 * NANOS_PER_MILLI); // the burst, then one second to recover
        net.mark();
        net.run(2_000 * NANOS_PER_MILLI);
        double[] after = new double[3];
        double total = 0;
        for (int i = 0; i < 3; i++) {
            after[i] = net.deliveredSinceMark(i);
            total += after[i];
        }
        String info = "seed " + seed + " before " + before + " after " + total + " per agent "
            + java.util.Arrays.toString(after) + " burst drops " + net.burstDrops;
        assertTrue(net.burstDrops > 0, "the burst dropped nothing: " + info);
        assertTrue(total >= 0.8 * before, "throughput did not recover after the burst: " + info);
        assertTrue(jain(after) >= 0.9, "unfair after the burst: " + info);
    }

    @Test
    void singleAgentOnACleanPathIsLimitedByTheServerWindowNotByCwnd() {
        long seed = 32;
        // A 1 MiB connection buffer: the window bounds the rate well below what the path carries.
        ServerEndpointConfig cfg = ServerEndpointConfig.defaults().withBudget(1 << 20, 256 * 1024);
        long oneWay = 10 * NANOS_PER_MILLI;
        MultiAgentNet net = new MultiAgentNet(seed, cfg, 1, Long.MAX_VALUE, 0, oneWay);
        net.run(1_000 * NANOS_PER_MILLI);
        net.mark();
        long measureNs = 2_000 * NANOS_PER_MILLI;
        net.run(measureNs);
        double rate = net.deliveredSinceMark(0) / (measureNs / 1e9);
        double windowBound = cfg.connectionBudgetBytes() / (2.0 * oneWay / 1e9); // one window per round trip
        AgentConnection a = net.peers[0].conn;
        String info = "seed " + seed + " rate " + rate + " bound " + windowBound + " cwnd " + a.congestionWindow()
            + " peer window " + a.peerWindow();
        assertTrue(rate >= 0.8 * windowBound, info);
        assertTrue(a.congestionWindow() >= cfg.connectionBudgetBytes(), "cwnd below the server's window: " + info);
        assertTrue(a.congestionWindow() <= 3 * cfg.connectionBudgetBytes(),
            "cwnd grew far beyond what the window lets the agent use: " + info);
    }
}
