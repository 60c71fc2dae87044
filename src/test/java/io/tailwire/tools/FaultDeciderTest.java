package io.tailwire.tools;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FaultDeciderTest {
    private static ChaosConfig cfg(double loss, double dup, double reorder) {
        return new ChaosConfig(loss, dup, reorder, 0, 0, List.of(), 0, 0, 0);
    }

    @Property(tries = 20)
    void lossZeroDropsNothing(@ForAll long seed) {
        FaultDecider d = new FaultDecider(cfg(0, 0.5, 0.5), seed);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(FaultDecider.Action.FORWARD, d.decide(i * NANOS_PER_MILLI, 1000).action);
        }
    }

    @Property(tries = 20)
    void lossOneDropsEverything(@ForAll long seed) {
        FaultDecider d = new FaultDecider(cfg(1, 0.5, 0.5), seed);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(FaultDecider.Action.DROP_LOSS, d.decide(i * NANOS_PER_MILLI, 1000).action);
        }
    }

    /** Observed rate within 5 standard deviations of p, for fixed seeds (so the test is deterministic). */
    private static void assertRate(String what, long hits, int n, double p) {
        double sigma = Math.sqrt(n * p * (1 - p));
        assertTrue(Math.abs(hits - n * p) <= 5 * sigma + 1, what + ": " + hits + " of " + n + " for p=" + p);
    }

    @Test
    void lossDupAndReorderRatesMatchTheirProbabilitiesForFixedSeeds() {
        double[][] settings = {{0.01, 0.02, 0.03}, {0.1, 0.05, 0.2}, {0.5, 0.5, 0.5}, {0.3, 0.9, 0.01}};
        for (long seed : new long[] {1, 2, 3, 12345}) {
            for (double[] s : settings) {
                FaultDecider d = new FaultDecider(cfg(s[0], s[1], s[2]), seed);
                int n = 50_000;
                long lost = 0;
                long dups = 0;
                long reorders = 0;
                for (int i = 0; i < n; i++) {
                    FaultDecider.Decision x = d.decide(i, 100);
                    if (x.action == FaultDecider.Action.DROP_LOSS) {
                        lost++;
                    } else {
                        dups += x.copies == 2 ? 1 : 0;
                        reorders += x.reorder ? 1 : 0;
                    }
                }
                int forwarded = (int) (n - lost);
                assertRate("loss seed " + seed, lost, n, s[0]);
                assertRate("dup seed " + seed, dups, forwarded, s[1]);
                assertRate("reorder seed " + seed, reorders, forwarded, s[2]);
            }
        }
    }

    @Property(tries = 50)
    void blackoutDropsExactlyInsideHalfOpenWindows(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long s1 = r.nextLong(1, 1000) * NANOS_PER_MILLI;
        long d1 = r.nextLong(0, 500) * NANOS_PER_MILLI;
        long s2 = s1 + d1 + r.nextLong(0, 300) * NANOS_PER_MILLI;
        long d2 = r.nextLong(1, 500) * NANOS_PER_MILLI;
        ChaosConfig c = new ChaosConfig(0, 0, 0, 0, 0,
            List.of(new ChaosConfig.Blackout(s1, d1), new ChaosConfig.Blackout(s2, d2)), 0, 0, 0);
        FaultDecider d = new FaultDecider(c, seed);
        // The edges exactly, then random instants.
        long[] edges = {s1 - 1, s1, s1 + d1 - 1, s1 + d1, s2 - 1, s2, s2 + d2 - 1, s2 + d2};
        for (long t : edges) {
            checkBlackout(d, t, s1, d1, s2, d2);
        }
        for (int i = 0; i < 2000; i++) {
            checkBlackout(d, r.nextLong(0, s2 + d2 + 100 * NANOS_PER_MILLI), s1, d1, s2, d2);
        }
    }

    private static void checkBlackout(FaultDecider d, long t, long s1, long d1, long s2, long d2) {
        boolean inside = (t >= s1 && t < s1 + d1) || (t >= s2 && t < s2 + d2);
        FaultDecider.Action a = d.decide(t, 500).action;
        assertEquals(inside ? FaultDecider.Action.DROP_BLACKOUT : FaultDecider.Action.FORWARD, a, "t=" + t);
    }

    @Property(tries = 30)
    void policerPassesNoMoreThanBurstPlusRateTimesTimeAndKeepsUpWithOfferedLoadBelowRate(
            @ForAll long seed, @ForAll @LongRange(min = 10_000, max = 10_000_000) long rate) {
        SplittableRandom r = new SplittableRandom(seed);
        long burst = ChaosConfig.defaultBurst(rate);
        FaultDecider d = new FaultDecider(new ChaosConfig(0, 0, 0, 0, 0, List.of(), rate, burst, 0), seed);
        // Offer twice the rate for 2 virtual seconds in datagrams of 100..1472 bytes.
        long t = 0;
        long passed = 0;
        long end = 2_000_000_000L;
        while (t < end) {
            int len = 100 + r.nextInt(1373);
            if (d.decide(t, len).action == FaultDecider.Action.FORWARD) {
                passed += len;
            }
            t += (long) (len * 1e9 / (2.0 * rate));
        }
        assertTrue(passed <= burst + rate * (t / 1e9) + 1, "passed " + passed);
        // Under overload the policer still passes at least the rate minus one datagram per refill step.
        assertTrue(passed >= rate * (end / 1e9) - 1472, "passed " + passed + " rate " + rate);

        // Offered at half the rate: nothing is dropped.
        FaultDecider calm = new FaultDecider(new ChaosConfig(0, 0, 0, 0, 0, List.of(), rate, burst, 0), seed);
        t = 0;
        for (int i = 0; i < 2000; i++) {
            int len = 100 + r.nextInt(Math.min(1373, (int) burst - 100));
            assertEquals(FaultDecider.Action.FORWARD, calm.decide(t, len).action);
            t += (long) (len * 1e9 / (0.5 * rate));
        }
    }

    @Property(tries = 20)
    void changingTheLossProbabilityDoesNotChangeTheOtherDecisions(@ForAll long seed,
            @ForAll @DoubleRange(min = 0, max = 1) double loss) {
        FaultDecider a = new FaultDecider(cfg(0, 0.3, 0.3), seed);
        FaultDecider b = new FaultDecider(cfg(loss, 0.3, 0.3), seed);
        for (int i = 0; i < 2000; i++) {
            FaultDecider.Decision x = a.decide(i, 100);
            int copies = x.copies;
            boolean reorder = x.reorder;
            FaultDecider.Decision y = b.decide(i, 100);
            if (y.action == FaultDecider.Action.FORWARD) {
                assertEquals(copies, y.copies);
                assertEquals(reorder, y.reorder);
            }
        }
    }

    @Property(tries = 20)
    void delaysStayWithinDelayPlusJitterAndTheDuplicateNeverLeadsTheOriginal(@ForAll long seed,
            @ForAll @LongRange(min = 0, max = 100) long delayMs, @ForAll @LongRange(min = 0, max = 100) long jitterMs) {
        FaultDecider d = new FaultDecider(new ChaosConfig(0, 0.5, 0, delayMs * NANOS_PER_MILLI, jitterMs * NANOS_PER_MILLI,
            List.of(), 0, 0, 0), seed);
        for (int i = 0; i < 2000; i++) {
            FaultDecider.Decision x = d.decide(i, 100);
            assertTrue(x.delayNanos >= delayMs * NANOS_PER_MILLI && x.delayNanos <= (delayMs + jitterMs) * NANOS_PER_MILLI);
            if (x.copies == 2) {
                assertTrue(x.dupDelayNanos >= x.delayNanos && x.dupDelayNanos <= (delayMs + jitterMs) * NANOS_PER_MILLI);
            }
        }
    }
}
