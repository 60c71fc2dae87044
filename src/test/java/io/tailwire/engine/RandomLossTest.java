package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Random loss is not congestion (wire-spec.md 7.3), in virtual time on the bottleneck of
 * {@link CongestionSharingTest} (4 MB/s, 96 KiB drop-tail queue, 10 ms each way): an agent keeps most of
 * its lossless throughput when the path also loses 1% or 5% of datagrams at random (both ways), and agents
 * sharing the bottleneck under random loss still back off when its queue overflows and still share it.
 */
class RandomLossTest {
    private static final long RATE = 4_000_000;
    private static final long QUEUE = 96 * 1024;

    private static MultiAgentNet net(long seed, int agents, double loss) {
        MultiAgentNet net = new MultiAgentNet(seed, ServerEndpointConfig.defaults(), agents, RATE, QUEUE, 10 * NANOS_PER_MILLI);
        net.randomLoss = loss;
        net.run(2_000 * NANOS_PER_MILLI); // past slow start
        net.mark();
        net.run(5_000 * NANOS_PER_MILLI);
        return net;
    }

    private static double ratioToLossless(long seed, double loss) {
        double clean = net(seed, 1, 0).deliveredSinceMark(0);
        MultiAgentNet lossy = net(seed, 1, loss);
        double ratio = lossy.deliveredSinceMark(0) / clean;
        System.out.printf("seed %d loss %.2f: %d of %.0f bytes (%.2f), %d random drops, %d queue drops%n",
            seed, loss, lossy.deliveredSinceMark(0), clean, ratio, lossy.randomDrops, lossy.queueDrops);
        return ratio;
    }

    @Test
    void onePercentRandomLossKeepsAtLeastSeventyPercentOfTheLosslessThroughput() {
        double r = ratioToLossless(41, 0.01);
        assertTrue(r >= 0.7, "seed 41: 1% loss kept " + r + " of the lossless throughput");
    }

    @Test
    void fivePercentRandomLossKeepsAtLeastFortyPercentOfTheLosslessThroughput() {
        double r = ratioToLossless(42, 0.05);
        assertTrue(r >= 0.4, "seed 42: 5% loss kept " + r + " of the lossless throughput");
    }

    @Test
    void agentsUnderRandomLossStillBackOffAtTheBottleneckAndShareIt() {
        long seed = 43;
        MultiAgentNet net = net(seed, 4, 0.01);
        double[] got = new double[4];
        double total = 0;
        double sq = 0;
        for (int i = 0; i < 4; i++) {
            got[i] = net.deliveredSinceMark(i);
            total += got[i];
            sq += got[i] * got[i];
        }
        double jain = total * total / (4 * sq);
        double queueDropRate = net.queueDrops / (double) net.packetsIntoQueue;
        String info = "seed " + seed + " delivered " + java.util.Arrays.toString(got) + " jain " + jain
            + " queue drop rate " + queueDropRate + " random drops " + net.randomDrops;
        assertTrue(jain >= 0.9, info);
        assertTrue(queueDropRate < 0.05, "the agents keep the queue overflowing: " + info);
        assertTrue(total >= 0.7 * RATE * 5, "the bottleneck is left idle: " + info);
    }
}
