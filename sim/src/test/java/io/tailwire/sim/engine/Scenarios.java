package io.tailwire.sim.engine;

import io.tailwire.config.Configuration;
import io.tailwire.wire.Wire;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;

/** Generators of engine scenarios; every random choice ends up in the scenario, whose replay command prints it. */
final class Scenarios {
    private Scenarios() {
    }

    static Arbitrary<Long> seeds() {
        return Arbitraries.longs().between(1, Long.MAX_VALUE).withDistribution(RandomDistribution.uniform());
    }

    /** Uniform in [lo, hi]: jqwik's default leans hard towards small values, which would make most runs trivial. */
    static Arbitrary<Long> uniform(long lo, long hi) {
        return Arbitraries.longs().between(lo, hi).withDistribution(RandomDistribution.uniform());
    }

    static Arbitrary<Integer> uniform(int lo, int hi) {
        return Arbitraries.integers().between(lo, hi).withDistribution(RandomDistribution.uniform());
    }

    static Arbitrary<Double> p(double max) {
        return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(1, Arbitraries.just(0.0)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(max)),
            net.jqwik.api.Tuple.of(4, Arbitraries.doubles().between(0, max).ofScale(3).withDistribution(net.jqwik.api.RandomDistribution.uniform())));
    }

    /** Loss up to 50 %, duplication up to 50 %, reordering 0..100 % with up to 100 ms extra delay. */
    static Arbitrary<LinkFaults> lossDupReorder() {
        return Combinators.combine(p(0.5), p(0.5), p(1.0), uniform(1L, 100_000L), uniform(10L, 20_000L),
                uniform(0L, 5_000L))
            .as((loss, dup, reorder, reorderMax, delay, jitter) ->
                new LinkFaults(loss, dup, reorder, reorderMax, delay, jitter, 0, 0, 0, 0, 0, 0));
    }

    static Arbitrary<LinkFaults> clean() {
        return uniform(10L, 5_000L).map(d -> new LinkFaults(0, 0, 0, 0, d, 0, 0, 0, 0, 0, 0, 0));
    }

    static Arbitrary<Integer> datagrams() {
        return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(4, Arbitraries.just(Wire.DEFAULT_MAX_DATAGRAM)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(Wire.MIN_MAX_DATAGRAM)),
            net.jqwik.api.Tuple.of(1, uniform(Wire.MIN_MAX_DATAGRAM, 9000)));
    }

    /** Base: 1..3 streams of 0..30 KB, the shipped server buffer and window, durable on write. */
    static Arbitrary<EngineScenario> with(Arbitrary<LinkFaults> up, Arbitrary<LinkFaults> down) {
        return with(up, down, Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(1, Arbitraries.just(0)),
            net.jqwik.api.Tuple.of(1, uniform(1, 100)), net.jqwik.api.Tuple.of(8, uniform(100, 30_000))));
    }

    static Arbitrary<EngineScenario> with(Arbitrary<LinkFaults> up, Arbitrary<LinkFaults> down,
                                          Arbitrary<Integer> bytes) {
        return Combinators.combine(seeds(), uniform(1, 3), bytes, up, down, datagrams())
            .as((seed, streams, n, u, d, dg) -> new EngineScenario(seed, streams, n, u, d, 0, 0, 0, dg,
                Configuration.CONNECTION_BUFFER_BYTES, Configuration.INITIAL_WINDOW_BYTES, 0));
    }

    static EngineScenario withPartition(EngineScenario s, long startMs, long lengthMs) {
        return new EngineScenario(s.seed(), s.streams(), s.bytesPerStream(), s.up(), s.down(), startMs, lengthMs,
            s.handshakeDrops(), s.datagram(), s.budget(), s.initialWindow(), s.syncUs());
    }

    static EngineScenario withHandshakeDrops(EngineScenario s, int drops) {
        return new EngineScenario(s.seed(), s.streams(), s.bytesPerStream(), s.up(), s.down(), s.partitionStartMs(),
            s.partitionMs(), drops, s.datagram(), s.budget(), s.initialWindow(), s.syncUs());
    }

    static EngineScenario withServer(EngineScenario s, long budget, int initialWindow, long syncUs) {
        return new EngineScenario(s.seed(), s.streams(), s.bytesPerStream(), s.up(), s.down(), s.partitionStartMs(),
            s.partitionMs(), s.handshakeDrops(), s.datagram(), budget, initialWindow, syncUs);
    }
}
