package io.tailwire.sim;

import io.tailwire.fault.FaultModel;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimulationTest {
    /** Sends a numbered datagram to its peer every period; echoes what it receives if it is the echoer. */
    static final class PingNode implements SimNode {
        final Simulation sim;
        final InetSocketAddress self;
        final InetSocketAddress peer;
        final boolean echoer;
        final SimRandom random;
        long next;
        int seq;
        int received;

        PingNode(Simulation sim, InetSocketAddress self, InetSocketAddress peer, boolean echoer) {
            this.sim = sim;
            this.self = self;
            this.peer = peer;
            this.echoer = echoer;
            this.random = sim.random().child("node " + SimNetwork.name(self));
            this.next = echoer ? Long.MAX_VALUE : sim.now() + NANOS_PER_MILLI;
        }

        @Override
        public InetSocketAddress address() {
            return self;
        }

        @Override
        public void onDatagram(InetSocketAddress from, byte[] data, long now) {
            received++;
            sim.log(name(), "got " + data.length);
            if (echoer) {
                sim.network().send(self, from, data);
            }
        }

        @Override
        public long nextDeadline() {
            return next;
        }

        @Override
        public void onTimer(long now) {
            byte[] d = new byte[8 + random.nextInt(200)];
            ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putInt(seq++);
            sim.network().send(self, peer, d);
            next = now + NANOS_PER_MILLI / 2 + random.nextLong(0, NANOS_PER_MILLI);
        }
    }

    static final InetSocketAddress A = new InetSocketAddress("10.0.0.1", 5000);
    static final InetSocketAddress B = new InetSocketAddress("10.0.0.2", 6000);

    static Simulation pingScenario(long seed) {
        Simulation sim = new Simulation(seed);
        sim.network().setDefaultFaultModel(FaultModel.perfect().loss(0.05).gilbertElliott(0.01, 0.3, 0, 0.8)
            .duplicate(0.03).reorder(0.05, 5 * NANOS_PER_MILLI).delay(2 * NANOS_PER_MILLI, NANOS_PER_MILLI).corrupt(0.02, 3)
            .bottleneck(200_000, 4_000));
        sim.addNode(new PingNode(sim, A, B, false));
        sim.addNode(new PingNode(sim, B, A, true));
        sim.network().partition(A, B, sim.now() + 300 * NANOS_PER_MILLI, sim.now() + 400 * NANOS_PER_MILLI);
        Simulation.Result r = sim.runFor(1_000 * NANOS_PER_MILLI, 1_000_000);
        assertEquals(Simulation.Outcome.TIME_LIMIT, r.outcome(), "seed " + seed);
        return sim;
    }

    @Test
    void sameSeedGivesIdenticalTraceHashAndDifferentSeedGivesADifferentOne() {
        long seed = 0x5eed_1234L;
        Simulation first = pingScenario(seed);
        Simulation second = pingScenario(seed);
        Simulation other = pingScenario(seed + 1);
        assertTrue(first.trace().count() > 1000, "scenario too small to mean anything: " + first.trace().count());
        assertEquals(first.trace().count(), second.trace().count(), "seed " + seed);
        assertEquals(first.trace().hashHex(), second.trace().hashHex(), "seed " + seed);
        assertEquals(first.trace().tail(), second.trace().tail(), "seed " + seed);
        assertNotEquals(first.trace().hashHex(), other.trace().hashHex(), "seeds " + seed + ", " + (seed + 1));
    }

    @Test
    void childStreamDependsOnlyOnSeedAndNameNotOnOtherChildren() {
        long seed = 77;
        SimRandom plain = new SimRandom(seed).child("disk");
        SimRandom root = new SimRandom(seed);
        SimRandom noisy = root.child("network");
        for (int i = 0; i < 100; i++) {
            noisy.nextLong();
            root.nextLong();
        }
        SimRandom after = root.child("disk");
        for (int i = 0; i < 1000; i++) {
            assertEquals(plain.nextLong(), after.nextLong(), "seed " + seed + " draw " + i);
        }
        assertNotEquals(new SimRandom(seed).child("disk").nextLong(), new SimRandom(seed).child("disc").nextLong());
    }

    @Test
    void eventsAtTheSameInstantRunInSchedulingOrderAndTimeNeverGoesBack() {
        Simulation sim = new Simulation(1);
        List<String> ran = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        long t0 = sim.now();
        sim.at(t0 + 10, () -> { ran.add("c"); times.add(sim.now()); });
        sim.at(t0 + 5, () -> { ran.add("a"); times.add(sim.now()); });
        sim.at(t0 + 10, () -> { ran.add("d"); times.add(sim.now()); });
        sim.at(t0 + 5, () -> {
            ran.add("b");
            times.add(sim.now());
            sim.at(t0 + 1, () -> { ran.add("late"); times.add(sim.now()); }); // past: runs now, after b
        });
        EventQueue.Event cancelled = sim.at(t0 + 7, () -> ran.add("cancelled"));
        cancelled.cancel();
        Simulation.Result r = sim.runFor(1_000, 100);
        assertEquals(Simulation.Outcome.IDLE, r.outcome());
        assertEquals(List.of("a", "b", "late", "c", "d"), ran);
        for (int i = 1; i < times.size(); i++) {
            assertTrue(times.get(i) >= times.get(i - 1), "time went back at " + i + ": " + times);
        }
    }

    @Test
    void aNodeWhoseDeadlineNeverMovesStopsAtTheStepLimitInsteadOfHanging() {
        Simulation sim = new Simulation(2);
        long t0 = sim.now();
        int[] calls = {0};
        sim.addNode(new SimNode() {
            @Override
            public InetSocketAddress address() {
                return A;
            }

            @Override
            public long nextDeadline() {
                return t0; // never advances: a livelock
            }

            @Override
            public void onTimer(long now) {
                calls[0]++;
            }

            @Override
            public void onDatagram(InetSocketAddress from, byte[] data, long now) {
            }
        });
        Simulation.Result r = sim.runFor(1_000 * NANOS_PER_MILLI, 500);
        assertEquals(Simulation.Outcome.STEP_LIMIT, r.outcome());
        assertEquals(500, calls[0]);
        assertEquals(t0, sim.now());
    }

    @Test
    void runEndsAtTheTimeLimitWithTheClockAtTheLimit() {
        Simulation sim = new Simulation(3);
        sim.addNode(new PingNode(sim, A, B, false));
        sim.addNode(new PingNode(sim, B, A, true));
        long limit = sim.now() + 50 * NANOS_PER_MILLI;
        Simulation.Result r = sim.runUntil(() -> false, limit, Long.MAX_VALUE);
        assertEquals(Simulation.Outcome.TIME_LIMIT, r.outcome());
        assertEquals(limit, sim.now());
    }

    @Test
    void runStopsWhenTheConditionHolds() {
        Simulation sim = new Simulation(4);
        PingNode b = new PingNode(sim, B, A, true);
        sim.addNode(new PingNode(sim, A, B, false));
        sim.addNode(b);
        Simulation.Result r = sim.runUntil(() -> b.received >= 10, sim.now() + 10_000 * NANOS_PER_MILLI, 1_000_000);
        assertEquals(Simulation.Outcome.CONDITION, r.outcome());
        assertEquals(10, b.received);
    }

    @Test
    void traceTailKeepsTheLastEventsOldestFirst() {
        Trace t = new Trace(3);
        for (int i = 0; i < 5; i++) {
            t.record(i, "n", "e" + i);
        }
        assertEquals(5, t.count());
        List<String> tail = t.tail();
        assertEquals(3, tail.size());
        assertTrue(tail.get(0).endsWith("e2") && tail.get(2).endsWith("e4"), tail.toString());
        Trace u = new Trace(3);
        for (int i = 0; i < 5; i++) {
            u.record(i, "n", i == 3 ? "E3" : "e" + i);
        }
        assertNotEquals(t.hashHex(), u.hashHex());
    }
}
