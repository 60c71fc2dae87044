package io.tailwire.sim;

import io.tailwire.fault.FaultModel;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import org.junit.jupiter.api.Test;

class EndpointNodeTest {
    static final InetSocketAddress A = new InetSocketAddress("10.0.0.1", 5000);
    static final InetSocketAddress B = new InetSocketAddress("10.0.0.2", 6000);

    /** Retransmits a request every 10 ms until answered, like a sans-IO client would. */
    static final class Client extends EndpointNode {
        long deadline;
        boolean answered;
        final ArrayDeque<EndpointNode.Outgoing> out = new ArrayDeque<>();
        int transmissions;

        Client(Simulation sim) {
            super(sim, A);
            deadline = sim.now();
        }

        @Override
        protected void receive(InetSocketAddress from, byte[] data, long now) {
            answered = true;
            deadline = Long.MAX_VALUE;
        }

        @Override
        protected void timer(long now) {
            out.add(new EndpointNode.Outgoing(B, new byte[] {1}));
            transmissions++;
            deadline = now + 10 * NANOS_PER_MILLI;
        }

        @Override
        protected Outgoing poll(long now) {
            return out.poll();
        }

        @Override
        public long nextDeadline() {
            return deadline;
        }
    }

    static class Server extends EndpointNode {
        final ArrayDeque<EndpointNode.Outgoing> out = new ArrayDeque<>();

        Server(Simulation sim, int maxSends) {
            super(sim, B, maxSends);
        }

        @Override
        protected void receive(InetSocketAddress from, byte[] data, long now) {
            out.add(new EndpointNode.Outgoing(from, new byte[] {2}));
        }

        @Override
        protected void timer(long now) {
        }

        @Override
        protected Outgoing poll(long now) {
            return out.poll();
        }

        @Override
        public long nextDeadline() {
            return Long.MAX_VALUE;
        }
    }

    @Test
    void aRetransmittingClientGetsThroughAHeavilyLossyLinkAndTheRunGoesIdle() {
        long seed = 31;
        Simulation sim = new Simulation(seed);
        sim.network().setDefaultFaultModel(FaultModel.perfect().loss(0.7).delay(NANOS_PER_MILLI, NANOS_PER_MILLI));
        Client c = new Client(sim);
        sim.addNode(c);
        sim.addNode(new Server(sim, 10));
        Simulation.Result r = sim.runFor(60_000 * NANOS_PER_MILLI, 1_000_000);
        assertEquals(Simulation.Outcome.IDLE, r.outcome(), "seed " + seed + "\n" + sim.trace().dumpTail());
        assertTrue(c.answered, "seed " + seed);
        assertTrue(c.transmissions > 1, "seed " + seed + ": 70% loss should need retries");
    }

    @Test
    void anEndpointThatNeverStopsSendingFailsWithTheTraceInsteadOfHanging() {
        Simulation sim = new Simulation(32);
        Client c = new Client(sim);
        Server endless = new Server(sim, 5) {
            @Override
            protected Outgoing poll(long now) {
                return new EndpointNode.Outgoing(A, new byte[] {3});
            }
        };
        sim.addNode(c);
        sim.addNode(endless);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sim.runFor(NANOS_PER_MILLI, 1000));
        assertTrue(e.getMessage().contains("still sending"), e.getMessage());
    }

    @Test
    void anIsolatedAddressNeitherSendsNorReceivesDuringTheWindow() {
        Simulation sim = new Simulation(33);
        long t0 = sim.now();
        sim.network().isolate(B, t0, t0 + 100 * NANOS_PER_MILLI);
        Client c = new Client(sim);
        sim.addNode(c);
        sim.addNode(new Server(sim, 10));
        sim.runUntil(() -> c.answered, t0 + 1000 * NANOS_PER_MILLI, 100_000);
        assertTrue(c.answered);
        assertTrue(sim.now() >= t0 + 100 * NANOS_PER_MILLI, "answered at +" + (sim.now() - t0) + " ns, inside the window");
        assertEquals(10, sim.network().link(A, B).stats().partitioned());
    }
}
