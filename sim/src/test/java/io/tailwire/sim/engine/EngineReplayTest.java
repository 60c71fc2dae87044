package io.tailwire.sim.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class EngineReplayTest {
    /** Parses a printed replay command the way bin/udp-sim hands it over: everything after the script name. */
    static EngineScenario parseReplay(String command) {
        String[] words = command.split(" ");
        assertEquals("bin/udp-sim", words[0]);
        assertEquals("engine", words[1]);
        return EngineSimMain.parse(Arrays.copyOfRange(words, 1, words.length));
    }

    @Property(tries = 300)
    void theReplayCommandParsesBackToExactlyTheSameScenario(@ForAll("everything") EngineScenario sc) {
        assertEquals(sc, parseReplay(sc.replayCommand()), sc.replayCommand());
    }

    @Provide
    Arbitrary<EngineScenario> everything() {
        Arbitrary<LinkFaults> f = Combinators.combine(Scenarios.p(0.5), Scenarios.p(0.5), Scenarios.p(1),
                Scenarios.uniform(0L, 100_000L), Scenarios.uniform(0L, 20_000L), Scenarios.uniform(0L, 5_000L),
                Scenarios.p(0.5), Arbitraries.of(0, 1, 2))
            .as((loss, dup, re, rmax, delay, jitter, corrupt, ge) -> new LinkFaults(loss, dup, re, rmax, delay,
                jitter, corrupt, ge == 0 ? 0 : 0.05 * ge, ge == 0 ? 0 : 0.25, ge == 0 ? 0 : 0.9, ge * 1_000_000L,
                ge * 50_000L));
        return Combinators.combine(Scenarios.with(f, f), Scenarios.uniform(0L, 1000L), Scenarios.uniform(0L, 30_000L),
                Scenarios.uniform(0, 9), Scenarios.uniform(0L, 100_000L))
            .as((s, ps, pl, hd, sync) -> new EngineScenario(s.seed(), s.streams(), s.bytesPerStream(), s.up(),
                s.down(), ps, pl, hd, s.datagram(), 4L * s.datagram(), 2 * s.datagram(), sync));
    }

    @Test
    void shorthandFlagsSetBothDirections() {
        EngineScenario sc = EngineSimMain.parse("engine", "--seed", "7", "--loss", "0.3", "--dup", "0.2", "--reorder",
            "0.5");
        assertEquals(7, sc.seed());
        assertEquals(sc.up(), sc.down());
        assertEquals(0.3, sc.up().loss());
        assertEquals(0.2, sc.up().dup());
        assertEquals(0.5, sc.up().reorder());
        assertTrue(sc.up().reorderMaxUs() > 0, "reordering needs a delay spread");
    }

    @Test
    void aRunThatCannotCompleteFailsWithSeedFaultMixReplayCommandAndTrace() {
        EngineScenario sc = EngineScenario.basic(99).withFaults(LinkFaults.parse("loss=1.0,delay-us=100"),
            LinkFaults.clean());
        EngineRun.Result r = EngineRun.run(sc);
        assertFalse(r.passed(), r::summary);
        String report = r.failureReport();
        assertTrue(report.contains("seed: 99"), report);
        assertTrue(report.contains("loss=1.0"), report);
        assertTrue(report.contains(sc.replayCommand()), report);
        assertTrue(report.contains("last "), "trace tail missing: " + report);
        assertEquals(sc, parseReplay(sc.replayCommand()));
    }
}
