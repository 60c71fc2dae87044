package io.tailwire.sim.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class EngineDeterminismTest {
    /** A busy mix: every fault the network has, both ways, a partition, a lazy disk and three streams. */
    static EngineScenario busy(long seed) {
        LinkFaults f = new LinkFaults(0.2, 0.2, 0.5, 30_000, 800, 300, 0.05, 0.05, 0.3, 1.0, 2_000_000, 64_000);
        return new EngineScenario(seed, 3, 20_000, f, f, 2, 1_500, 2, 1472, 64 * 1024, 32 * 1024, 5_000);
    }

    @Test
    void theSameScenarioRunTwiceGivesTheSameTraceHashAndCounters() {
        EngineScenario sc = busy(424242);
        EngineRun.Result a = EngineRun.run(sc);
        EngineRun.Result b = EngineRun.run(sc);
        assertTrue(a.passed(), a::failureReport);
        assertEquals(a.traceHash(), b.traceHash(), "seed 424242: " + sc.replayCommand());
        assertEquals(a.summary(), b.summary());
        assertTrue(a.retransmissions() > 0, "the mix should force retransmissions: " + a.summary());
    }

    @Test
    void anotherSeedGivesAnotherTrace() {
        EngineRun.Result a = EngineRun.run(busy(1));
        EngineRun.Result b = EngineRun.run(busy(2));
        assertTrue(a.passed(), a::failureReport);
        assertTrue(b.passed(), b::failureReport);
        assertNotEquals(a.traceHash(), b.traceHash());
    }
}
