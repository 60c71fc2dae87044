package io.tailwire.server.limit;

import static io.tailwire.io.Units.NANOS_PER_SECOND;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.PriorityQueue;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * The throttle as the engine is meant to use it, in virtual time: each agent keeps at most the
 * advertised window in flight (wire-spec.md 7.1); the server calls consume() for each DATA that
 * arrives and advertises window(...) in the ACK (and in WELCOME's initial window); after advertising
 * 0 it arms a timer at whenAllowed(...) and sends an unsolicited ACK when it fires (7.2). The bytes
 * received must converge to the configured rate.
 */
class ThrottleWindowSimTest {
    private static final long T0 = 5 * NANOS_PER_SECOND;
    private static final long BUFFER_WINDOW = 256 * 1024;

    private static final int DATA = 0;
    private static final int ACK = 1;
    private static final int TIMER = 2;
    private static final int WELCOME = 3;

    /** Event: time, sequence (ties in order of scheduling), kind, agent, bytes acknowledged, window. */
    private record Ev(long time, long seq, int kind, int agent, long acked, long window) {
    }

    private static final class Sim {
        final IngestThrottle throttle;
        final String[] ids;
        final long[] oneWay;
        final int mps;
        final long end;
        final long[] window;
        final long[] inFlight;
        final long[] received;
        final boolean[] timerArmed;
        final PriorityQueue<Ev> q = new PriorityQueue<>((a, b) -> a.time != b.time
                ? Long.compare(a.time, b.time) : Long.compare(a.seq, b.seq));
        long seq;

        Sim(IngestThrottle throttle, String[] ids, long[] oneWay, int mps, long durationNs) {
            this.throttle = throttle;
            this.ids = ids;
            this.oneWay = oneWay;
            this.mps = mps;
            this.end = T0 + durationNs;
            int n = ids.length;
            window = new long[n];
            inFlight = new long[n];
            received = new long[n];
            timerArmed = new boolean[n];
        }

        void at(long time, int kind, int agent, long acked, long w) {
            q.add(new Ev(time, seq++, kind, agent, acked, w));
        }

        /** Server side: the window for an ACK or WELCOME, arming the reopening timer when it is 0. */
        long advertise(int a, long now) {
            long w = throttle.window(ids[a], BUFFER_WINDOW, mps, now);
            if (w == 0 && !timerArmed[a]) {
                long when = throttle.whenAllowed(ids[a], mps, now);
                if (when != Long.MAX_VALUE) {
                    timerArmed[a] = true;
                    at(Math.max(when, now + 1), TIMER, a, 0, 0);
                }
            }
            return w;
        }

        void agentSends(int a, long now) {
            while (window[a] - inFlight[a] > 0) {
                long n = Math.min(mps, window[a] - inFlight[a]);
                inFlight[a] += n;
                at(now + oneWay[a], DATA, a, n, 0);
            }
        }

        long[] run() {
            for (int a = 0; a < ids.length; a++) {
                at(T0, WELCOME, a, 0, advertise(a, T0));
            }
            while (!q.isEmpty()) {
                Ev e = q.poll();
                if (e.time > end) {
                    break;
                }
                int a = e.agent;
                switch (e.kind) {
                    case WELCOME -> {
                        // the WELCOME was computed at T0; the agent learns its initial window one way later
                        if (e.time == T0) {
                            at(T0 + oneWay[a], WELCOME, a, 0, e.window);
                        } else {
                            window[a] = e.window;
                            agentSends(a, e.time);
                        }
                    }
                    case DATA -> {
                        received[a] += e.acked;
                        throttle.consume(ids[a], e.acked, e.time);
                        at(e.time + oneWay[a], ACK, a, e.acked, advertise(a, e.time));
                    }
                    case ACK -> {
                        inFlight[a] -= e.acked;
                        window[a] = e.window;
                        agentSends(a, e.time);
                    }
                    case TIMER -> {
                        timerArmed[a] = false;
                        long w = advertise(a, e.time);
                        if (w > 0) {
                            at(e.time + oneWay[a], ACK, a, 0, w);
                        }
                    }
                    default -> throw new AssertionError();
                }
            }
            return received;
        }
    }

    private static void assertNear(double expected, long actual, double tolerance, String what) {
        assertTrue(Math.abs(actual - expected) <= tolerance * expected,
                what + ": expected " + (long) expected + " +-" + (tolerance * 100) + "%, got " + actual);
    }

    @Property(tries = 12)
    void oneAgentReceivesTheGlobalRateWithin2PercentWhateverTheRttAndDatagramSize(
            @ForAll @LongRange(min = 100_000, max = 20_000_000) long rate,
            @ForAll @LongRange(min = 25_000, max = 2_500_000) long oneWayNs,
            @ForAll @IntRange(min = 1200, max = 8952) int mps) {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(rate);
        long got = new Sim(t, new String[] {"a"}, new long[] {oneWayNs}, mps, 10 * NANOS_PER_SECOND).run()[0];
        assertNear(rate * 10.0, got, 0.02, "rate " + rate + " one-way " + oneWayNs + " mps " + mps);
    }

    @Property(tries = 8)
    void anAgentLimitHoldsAndTheOthersShareTheRestOfTheGlobalRate(
            @ForAll @LongRange(min = 400_000, max = 10_000_000) long global,
            @ForAll @IntRange(min = 2, max = 5) int agents,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(global);
        long slowRate = global / 8;
        t.setAgent("slow", slowRate);
        String[] ids = new String[agents];
        long[] oneWay = new long[agents];
        ids[0] = "slow";
        for (int i = 0; i < agents; i++) {
            if (i > 0) {
                ids[i] = "agent-" + i;
            }
            oneWay[i] = 25_000 + rnd.nextInt(2_000_000);
        }
        long[] got = new Sim(t, ids, oneWay, 1400, 10 * NANOS_PER_SECOND).run();
        long total = 0;
        for (long g : got) {
            total += g;
        }
        String what = "seed " + seed + " global " + global + " agents " + agents;
        assertNear(global * 10.0, total, 0.02, what + " total");
        assertTrue(got[0] <= slowRate * 10.0 * 1.02, what + ": slow agent got " + got[0]);
    }

    @Test
    void pausingStopsAllAndRaisingTheRateResumesWithoutAnyAgentProbe() {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(0);
        long[] paused = new Sim(t, new String[] {"a", "b"}, new long[] {100_000, 300_000}, 1400, 2 * NANOS_PER_SECOND).run();
        assertTrue(paused[0] == 0 && paused[1] == 0, "paused: " + paused[0] + ", " + paused[1]);
        // the same agents under a rate set before they connect: the timer path reopens the window
        IngestThrottle t2 = new IngestThrottle();
        t2.setGlobal(50_000);
        long[] slow = new Sim(t2, new String[] {"a"}, new long[] {100_000}, 1400, 10 * NANOS_PER_SECOND).run();
        assertNear(500_000, slow[0], 0.02, "50 kB/s");
    }
}
