package io.tailwire.sim.system;

import static io.tailwire.io.Units.NANOS_PER_SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;

/**
 * Whole-system properties over generated scenarios: small ones (1-4 agents, 1-3 files, tens of KB per file,
 * 5-15 virtual seconds of faults) so a few hundred run within the build. jqwik shrinks a failing scenario
 * towards fewer agents, files and faults; the failure message carries the seed, the bin/udp-sim command
 * that replays it, the first invariant broken and the trace around it.
 */
class SystemPropertiesTest {

    record Size(long seed, int agents, int files, long durationNs, int rate) {
    }

    record Net(double loss, boolean bursts, double dup, double reorder, double corrupt, boolean bottleneck,
               int partitions) {
    }

    record Crashes(int agentKills, int agentPowerLosses, int serverKills, int serverPowerLosses, int pauses,
                   int diskFulls) {
    }

    record Files(int rotations, int copyTruncates, int truncations, int deletions) {
    }

    private static Arbitrary<Size> sizes() {
        return Combinators.combine(Arbitraries.longs().between(1, 1_000_000_000L), Arbitraries.integers().between(1, 4),
            Arbitraries.integers().between(1, 3), Arbitraries.longs().between(5, 15),
            Arbitraries.integers().between(500, 6_000))
            .as((seed, a, f, d, r) -> new Size(seed, a, f, d * NANOS_PER_SECOND, r));
    }

    private static Arbitrary<Net> nets() {
        Arbitrary<Double> p = Arbitraries.integers().between(0, 15).map(i -> i / 100.0);
        return Combinators.combine(p, Arbitraries.of(false, true), p, p, Arbitraries.integers().between(0, 3)
                .map(i -> i / 100.0), Arbitraries.of(false, true), Arbitraries.integers().between(0, 3))
            .as(Net::new);
    }

    private static Arbitrary<Crashes> crashes(int max) {
        Arbitrary<Integer> n = Arbitraries.integers().between(0, max);
        return Combinators.combine(n, n, n, n, n, n).as(Crashes::new);
    }

    private static Arbitrary<Files> files() {
        Arbitrary<Integer> n = Arbitraries.integers().between(0, 3);
        return Combinators.combine(n, n, n, n).as(Files::new);
    }

    private static Scenario scenario(Size s, Net n, Crashes c, Files f) {
        return new Scenario(s.seed(), s.agents(), s.files(), s.durationNs(), s.rate(), n.loss(), n.bursts(), n.dup(),
            n.reorder(), n.corrupt(), n.bottleneck(), n.partitions(), c.agentKills(), c.agentPowerLosses(),
            c.serverKills(), c.serverPowerLosses(), c.pauses(), f.rotations(), f.copyTruncates(), f.truncations(),
            f.deletions(), c.diskFulls());
    }

    @Provide
    Arbitrary<Scenario> anyScenario() {
        return Combinators.combine(sizes(), nets(), crashes(2), files()).as(SystemPropertiesTest::scenario);
    }

    /** Server crashes of both kinds, several per run, and nothing else that loses data on purpose. */
    @Provide
    Arbitrary<Scenario> serverCrashScenario() {
        Arbitrary<Crashes> c = Combinators.combine(Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(1, 4), Arbitraries.integers().between(0, 2))
            .as((kills, power, disk) -> new Crashes(0, 0, kills, power, 0, disk));
        return Combinators.combine(sizes(), nets(), c, Arbitraries.just(new Files(0, 0, 0, 0)))
            .as(SystemPropertiesTest::scenario);
    }

    /** Long partitions, freezes and crashes right up to the end of the fault phase. */
    @Provide
    Arbitrary<Scenario> livenessScenario() {
        return Combinators.combine(sizes(), nets().map(n -> new Net(n.loss(), n.bursts(), n.dup(), n.reorder(),
                n.corrupt(), n.bottleneck(), 2 + n.partitions())), crashes(3), files())
            .as(SystemPropertiesTest::scenario);
    }

    private static void assertPasses(RunResult r) {
        assertTrue(r.pass(), () -> r.failureReport());
    }

    @Property(tries = 100, shrinking = ShrinkingMode.BOUNDED)
    void everyOutputEqualsItsSourceGenerationsMinusReportedLoss(@ForAll("anyScenario") Scenario s) {
        RunResult r = SystemSim.run(s);
        assertPasses(r);
        assertEquals(r.bytesWritten(),
            r.bytesDelivered() + r.reportedLossBytes() + r.sourceDestroyedBytes(),
            () -> "every written byte is delivered or accounted lost; replay: " + s.replayCommand());
    }

    @Property(tries = 60, shrinking = ShrinkingMode.BOUNDED)
    void nothingTheServerCalledDurableIsLostAcrossServerCrashes(@ForAll("serverCrashScenario") Scenario s) {
        RunResult r = SystemSim.run(s);
        assertPasses(r);
        // Without file events or agent crashes, no byte may be missing at all.
        assertEquals(r.bytesWritten(), r.bytesDelivered(), () -> r.summaryLine() + "\n" + s.replayCommand());
    }

    @Property(tries = 60, shrinking = ShrinkingMode.BOUNDED)
    void deliversEverythingWithinBoundAfterFaultsStop(@ForAll("livenessScenario") Scenario s) {
        SystemSim sim = new SystemSim(s);
        RunResult r = sim.run();
        assertPasses(r);
        assertTrue(r.deliveredAfterNanos() >= 0 && r.deliveredAfterNanos() <= sim.livenessBoundNs(),
            () -> r.summaryLine() + "\n" + s.replayCommand());
    }

    @Property(tries = 15, shrinking = ShrinkingMode.BOUNDED)
    void sameSeedSameTrace(@ForAll("anyScenario") Scenario s) {
        RunResult a = SystemSim.run(s);
        RunResult b = SystemSim.run(s);
        assertTrue(a.traceEvents() > 100, "a run records its events");
        assertEquals(a.traceEvents(), b.traceEvents(), s.replayCommand());
        assertEquals(a.traceHash(), b.traceHash(), () -> "same seed, different trace: " + s.replayCommand());
        assertEquals(a.summaryLine(), b.summaryLine());
    }
}
