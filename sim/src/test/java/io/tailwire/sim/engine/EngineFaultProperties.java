package io.tailwire.sim.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * The fault-injection proof of the protocol engine: each try is one {@link EngineRun} whose every invariant
 * (exact bytes once in order, window, sender rules, CRC, liveness within {@link EngineRun#boundNanos}) must
 * hold. A failure message carries the seed, the fault mix and the {@code bin/udp-sim engine ...} command that
 * replays it.
 */
class EngineFaultProperties {
    static EngineRun.Result check(EngineScenario sc) {
        EngineRun.Result r = EngineRun.run(sc);
        assertTrue(r.passed(), r::failureReport);
        return r;
    }

    @Property(tries = 400)
    void deliversExactlyTheSentBytesOnceInOrderUnderAnyLossDupReorder(@ForAll("anyLossDupReorder") EngineScenario sc) {
        EngineRun.Result r = check(sc);
        Statistics.label("retransmitted").collect(r.retransmissions() > 0);
        Statistics.label("late duplicate STREAM_OPEN reopened a closed stream").collect(r.staleReopens() > 0);
    }

    @Provide
    Arbitrary<EngineScenario> anyLossDupReorder() {
        return Scenarios.with(Scenarios.lossDupReorder(), Scenarios.lossDupReorder());
    }

    /**
     * Windows from one datagram up to 48 datagrams, lazy disks, lossy links: bytes in flight (counted from the
     * wire) never exceed the newest advertised window, and never the server's budget either.
     */
    @Property(tries = 150)
    void senderNeverExceedsAdvertisedWindow(@ForAll("smallWindows") EngineScenario sc) {
        EngineRun.Result r = check(sc);
        assertTrue(r.maxObservedInFlight() <= sc.budget(), () -> "in flight " + r.maxObservedInFlight()
            + " > budget " + sc.budget() + "\n" + r.failureReport());
        Statistics.label("window closed below one datagram").collect(r.minWindowSeen() < sc.datagram() - 48);
    }

    @Provide
    Arbitrary<EngineScenario> smallWindows() {
        return Combinators.combine(Scenarios.with(Scenarios.lossDupReorder(), Scenarios.lossDupReorder()),
                Scenarios.uniform(1, 48), Scenarios.uniform(0, 100),
                Scenarios.uniform(0L, 30_000L))
            .as((s, datagrams, initialPercent, syncUs) -> {
                long budget = (long) s.datagram() * datagrams;
                return Scenarios.withServer(s, budget, (int) (budget * initialPercent / 100), syncUs);
            });
    }

    /**
     * Everything at once, plus bottlenecks and partitions: the run ends within the stated bound. A bottleneck
     * queue always holds at least one datagram of the largest size generated (9000 bytes): a smaller one is a black hole
     * that no protocol gets through (seed 1 once drew a 3000-byte queue for 3001-byte datagrams).
     */
    @Property(tries = 100)
    void completesWithinStatedVirtualTimeBound(@ForAll("boundedMixes") EngineScenario sc) {
        EngineRun.Result r = check(sc);
        assertTrue(r.completionNanos() >= 0 && r.completionNanos() <= r.boundNanos(), r::failureReport);
        Statistics.label("percent of bound used").collect(Math.min(100, (int) (100 * r.completionNanos()
            / r.boundNanos()) / 5 * 5));
    }

    @Provide
    Arbitrary<EngineScenario> boundedMixes() {
        Arbitrary<LinkFaults> withBottleneck = Combinators.combine(Scenarios.lossDupReorder(),
                Scenarios.uniform(0L, 2_000_000L), Scenarios.uniform(10_000L, 200_000L))
            .as((f, bw, q) -> new LinkFaults(f.loss(), f.dup(), f.reorder(), f.reorderMaxUs(), f.delayUs(),
                f.jitterUs(), 0, 0, 0, 0, bw < 50_000 ? 0 : bw, bw < 50_000 ? 0 : q));
        return Combinators.combine(Scenarios.with(withBottleneck, Scenarios.lossDupReorder()),
                Scenarios.uniform(0L, 200L), Scenarios.uniform(0L, 10_000L))
            .as((s, start, len) -> Scenarios.withPartition(s, start, len));
    }

    /** The first 1..8 handshake datagrams each way are lost (HELLO, RETRY, WELCOME), on top of random loss. */
    @Property(tries = 60)
    void survivesLossOfHandshakePackets(@ForAll("handshakeLoss") EngineScenario sc) {
        check(sc);
    }

    @Provide
    Arbitrary<EngineScenario> handshakeLoss() {
        return Combinators.combine(Scenarios.with(Scenarios.lossDupReorder(), Scenarios.lossDupReorder()),
                Scenarios.uniform(1, 8))
            .as(Scenarios::withHandshakeDrops);
    }

    /** Only the server-to-agent direction loses (ACKs, replies), up to 80 %: cumulative ACKs must carry it. */
    @Property(tries = 60)
    void survivesLossOfAcksOnly(@ForAll("ackOnlyLoss") EngineScenario sc) {
        check(sc);
    }

    @Provide
    Arbitrary<EngineScenario> ackOnlyLoss() {
        Arbitrary<LinkFaults> lossyDown = Combinators.combine(Scenarios.p(0.8), Scenarios.uniform(10L, 5_000L))
            .as((loss, delay) -> new LinkFaults(loss, 0, 0, 0, delay, 0, 0, 0, 0, 0, 0, 0));
        return Scenarios.with(Scenarios.clean(), lossyDown);
    }

    /** A partition of 1..30 s that heals, starting anywhere in the first 50 ms (handshake included). */
    @Property(tries = 50)
    void survivesALongPartitionThatHeals(@ForAll("partitions") EngineScenario sc) {
        EngineRun.Result r = check(sc);
        Statistics.label("partition began before completion").collect(r.completionNanos()
            > sc.partitionStartMs() * 1_000_000L);
    }

    @Provide
    Arbitrary<EngineScenario> partitions() {
        Arbitrary<LinkFaults> slow = Combinators.combine(Scenarios.p(0.2), Scenarios.uniform(500L, 10_000L))
            .as((loss, delay) -> new LinkFaults(loss, 0, 0, 0, delay, 0, 0, 0, 0, 0, 0, 0));
        return Combinators.combine(Scenarios.with(slow, slow), Scenarios.uniform(0L, 50L),
                Scenarios.uniform(1_000L, 30_000L))
            .as(Scenarios::withPartition);
    }

    /** Gilbert-Elliott bursts (mean burst 1..20 datagrams, up to total loss inside a burst) both ways. */
    @Property(tries = 60)
    void survivesGilbertElliottBursts(@ForAll("bursts") EngineScenario sc) {
        check(sc);
    }

    @Provide
    Arbitrary<EngineScenario> bursts() {
        Arbitrary<LinkFaults> ge = Combinators.combine(Arbitraries.doubles().between(0.01, 0.2).ofScale(3).withDistribution(net.jqwik.api.RandomDistribution.uniform()),
                Arbitraries.doubles().between(0.05, 1).ofScale(3).withDistribution(net.jqwik.api.RandomDistribution.uniform()), Arbitraries.doubles().between(0.5, 1).ofScale(3).withDistribution(net.jqwik.api.RandomDistribution.uniform()),
                Scenarios.uniform(10L, 5_000L), Scenarios.p(0.2))
            .as((gb, bg, lossBad, delay, dup) -> new LinkFaults(0, dup, 0, 0, delay, 0, 0, gb, bg, lossBad, 0, 0));
        return Scenarios.with(ge, ge);
    }

    /** Up to half the datagrams arrive with 1..3 flipped bits: each is dropped by the CRC, the bytes stay exact. */
    @Property(tries = 60)
    void corruptedDatagramsAreDroppedByCrcAndTheTransferStaysExact(@ForAll("corruption") EngineScenario sc) {
        EngineRun.Result r = check(sc);
        Statistics.label("corrupted copies").collect(r.corruptedDelivered() == 0 ? "0"
            : r.corruptedDelivered() < 10 ? "1-9" : "10+");
    }

    @Provide
    Arbitrary<EngineScenario> corruption() {
        Arbitrary<LinkFaults> bad = Combinators.combine(Scenarios.p(0.5), Scenarios.p(0.2), Scenarios.p(0.3),
                Scenarios.uniform(10L, 5_000L))
            .as((corrupt, loss, dup, delay) -> new LinkFaults(loss, dup, 0, 0, delay, 0, corrupt, 0, 0, 0, 0, 0));
        return Scenarios.with(bad, bad);
    }

    /**
     * A server budget of one or two datagrams and a disk that syncs only every 1..50 ms: the window closes to
     * (nearly) zero after each datagram and reopens on sync, so the zero-window ACK and PING probe paths carry
     * the transfer, with loss on both ways.
     */
    @Property(tries = 60)
    void tinyServerWindowIsProbedAndTheTransferCompletes(@ForAll("tinyWindows") EngineScenario sc) {
        EngineRun.Result r = check(sc);
        Statistics.label("probed with PING").collect(r.pingsSent() > 0);
    }

    @Provide
    Arbitrary<EngineScenario> tinyWindows() {
        Arbitrary<LinkFaults> lossy = Combinators.combine(Scenarios.p(0.3), Scenarios.uniform(10L, 2_000L))
            .as((loss, delay) -> new LinkFaults(loss, 0, 0, 0, delay, 0, 0, 0, 0, 0, 0, 0));
        return Combinators.combine(Scenarios.with(lossy, lossy, Scenarios.uniform(5_000, 30_000)),
                Scenarios.uniform(1, 2),
                Scenarios.uniform(1_000L, 50_000L))
            .as((s, n, syncUs) -> {
                long budget = (long) s.datagram() * n;
                return Scenarios.withServer(s, budget, (int) budget, syncUs);
            });
    }
}
