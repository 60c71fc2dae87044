package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

class TransferProperties {
    /** Virtual-time bound for up to 400 KB at up to 30% loss each way: generous, but finite and checked. */
    static final long BOUND_NS = 60_000 * NANOS_PER_MILLI;

    @Property(tries = 100)
    void lossyDuplicatingReorderingNetworkDeliversExactlyTheSentBytesOnceInOrderWithinTheWindow(
        @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long seed,
        @ForAll @IntRange(min = 0, max = 20) int lossPercent,
        @ForAll @IntRange(min = 0, max = 10) int dupPercent,
        @ForAll @IntRange(min = 0, max = 2000) int jitterMicros,
        @ForAll @IntRange(min = 1, max = 200_000) int size,
        @ForAll boolean lazyDisk) {
        run(seed, lossPercent, dupPercent, jitterMicros, size, lazyDisk);
    }

    @Property(tries = 20)
    void heavyLossWithLargeTransfersStillDeliversExactlyOnceInOrderWithinTheWindow(
        @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long seed,
        @ForAll @IntRange(min = 5, max = 30) int lossPercent,
        @ForAll @IntRange(min = 1, max = 10) int dupPercent,
        @ForAll @IntRange(min = 200, max = 3000) int jitterMicros,
        @ForAll @IntRange(min = 100_000, max = 400_000) int size,
        @ForAll boolean lazyDisk) {
        run(seed, lossPercent, dupPercent, jitterMicros, size, lazyDisk);
    }

    private static void run(long seed, int lossPercent, int dupPercent, int jitterMicros, int size,
                            boolean lazyDisk) {
        // One connection attempt must outlast heavy handshake loss: the property is about the transfer (a real
        // agent would simply reconnect after a connect timeout).
        AgentConnectionConfig agentCfg = AgentConnectionConfig.defaults("agent-1")
            .withTimeouts(BOUND_NS, 120_000 * NANOS_PER_MILLI, 5000 * NANOS_PER_MILLI);
        Harness h = new Harness(seed, ServerEndpointConfig.defaults(), agentCfg);
        h.loss = lossPercent / 100.0;
        h.dup = dupPercent / 100.0;
        h.jitterNs = jitterMicros * 1000L;
        if (lazyDisk) {
            h.store.autoDurable = false;
            h.syncEveryNs = 5 * NANOS_PER_MILLI;
        }
        byte[] data = EndToEndTest.randomBytes(seed, size);
        String why = "seed=" + seed + " loss=" + lossPercent + " dup=" + dupPercent + " jitterUs=" + jitterMicros
            + " size=" + size + " lazyDisk=" + lazyDisk;
        assertTrue(h.transfer("/logs/x", data, BOUND_NS), () -> why + " timed out at " + h.now + " " + h.log);
        FakeStore.Mem m = h.store.get("agent-1", "/logs/x", 1);
        assertArrayEquals(data, m.content(), why);
        assertEquals(size, h.closedDurable, why);
        assertEquals(0, h.windowViolations, why);
        net.jqwik.api.statistics.Statistics.label("retransmitted").collect(h.agent.stats().retransmissions() > 0);
        net.jqwik.api.statistics.Statistics.label("duplicates at server").collect(h.server.stats().duplicates() > 0);
    }
}
