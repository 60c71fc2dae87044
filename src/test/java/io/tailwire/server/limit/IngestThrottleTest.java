package io.tailwire.server.limit;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static io.tailwire.io.Units.NANOS_PER_SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class IngestThrottleTest {
    /** An arbitrary, large start so nothing depends on virtual time starting at 0. */
    private static final long T0 = 987_654_321_000L;

    /** A consumer that takes everything allowed every {@code stepNs}; returns the bytes it got. */
    private static long greedy(IngestThrottle t, String agent, long fromNs, long durationNs, long stepNs) {
        long total = 0;
        for (long now = fromNs; now <= fromNs + durationNs; now += stepNs) {
            long a = t.allowance(agent, now);
            assertTrue(a >= 0, "negative allowance");
            t.consume(agent, a, now);
            total += a;
        }
        return total;
    }

    private static void assertWithin2Percent(double expected, long actual, String what) {
        // Whole bytes: allow one byte of rounding where 2% is less than that (rates of a few bytes/s).
        assertTrue(Math.abs(actual - expected) <= Math.max(0.02 * expected, 1),
                what + ": expected " + expected + " +-2%, got " + actual);
    }

    @Test
    void greedyConsumerEvery1msGetsTheRateTimesTimeForFixedRates() {
        for (long rate : new long[] {1, 7, 1000, 65_536, 1_000_000, 123_456_789, IngestThrottle.MAX_RATE}) {
            IngestThrottle t = new IngestThrottle();
            t.setGlobal(rate);
            long got = greedy(t, "a", T0, 10 * NANOS_PER_SECOND, NANOS_PER_MILLI);
            assertWithin2Percent(rate * 10.0, got, "rate " + rate);
        }
    }

    @Property(tries = 60)
    void consumedBytesConvergeToRateTimesTimeWhateverTheRateAndStep(
            @ForAll @LongRange(min = 1, max = IngestThrottle.MAX_RATE) long rate,
            @ForAll @LongRange(min = 100_000, max = 5_000_000) long stepNs) {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(rate);
        long got = greedy(t, "a", T0, 10 * NANOS_PER_SECOND, stepNs);
        long elapsed = (10 * NANOS_PER_SECOND / stepNs) * stepNs;
        // Steps of at most 5 ms never fill the bucket (it holds at least 10 ms), so nothing is capped.
        assertWithin2Percent(rate * (elapsed / 1e9), got, "rate " + rate + " step " + stepNs);
    }

    @Property(tries = 100)
    void aConsumerNeverGetsMoreThanRateTimesTimePlusOneBurst(
            @ForAll @LongRange(min = 1, max = IngestThrottle.MAX_RATE) long rate,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(rate);
        long now = T0;
        long total = 0;
        t.allowance("a", now); // the bucket starts empty, now
        for (int i = 0; i < 2000; i++) {
            now += 1 + (long) (rnd.nextDouble() * 20 * NANOS_PER_MILLI);
            long a = t.allowance("a", now);
            long take = rnd.nextInt(4) == 0 ? a : (long) (a * rnd.nextDouble());
            t.consume("a", take, now);
            total += take;
            double bound = rate * ((now - T0) / 1e9) + IngestThrottle.burst(rate) + 1;
            assertTrue(total <= bound, "seed " + seed + ": " + total + " > " + bound);
        }
    }

    @Test
    void pauseAllowsNothingAndNeverReopensByItselfUnlimitedAllowsEverything() {
        IngestThrottle t = new IngestThrottle();
        assertEquals(Long.MAX_VALUE, t.allowance("a", T0));
        assertEquals(262_144, t.window("a", 262_144, 1400, T0));
        assertEquals(T0, t.whenAllowed("a", 1400, T0));
        t.setGlobal(IngestThrottle.PAUSED);
        assertEquals(0, greedy(t, "a", T0, 10 * NANOS_PER_SECOND, NANOS_PER_MILLI));
        assertEquals(0, t.window("a", 262_144, 1400, T0 + 11 * NANOS_PER_SECOND));
        assertEquals(Long.MAX_VALUE, t.whenAllowed("a", 1400, T0 + 11 * NANOS_PER_SECOND));
        t.setGlobal(IngestThrottle.UNLIMITED);
        assertEquals(Long.MAX_VALUE, t.allowance("a", T0 + 12 * NANOS_PER_SECOND));
        t.setGlobal(1_000_000);
        assertEquals(0, t.allowance("a", T0 + 13 * NANOS_PER_SECOND), "a new rate starts from an empty bucket");
        assertWithin2Percent(1_000_000, greedy(t, "a", T0 + 13 * NANOS_PER_SECOND, NANOS_PER_SECOND, NANOS_PER_MILLI),
            "after resuming");
    }

    @Test
    void anAgentSettingOnlyLowersTheGlobalOne() {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(1_000_000);
        t.setAgent("fast", 5_000_000);
        t.setAgent("slow", 100_000);
        assertEquals(1_000_000, t.effective("fast"));
        assertEquals(100_000, t.effective("slow"));
        assertEquals(1_000_000, t.effective("other"));
        assertWithin2Percent(1_000_000 * 10.0, greedy(t, "fast", T0, 10 * NANOS_PER_SECOND, NANOS_PER_MILLI), "fast");
        IngestThrottle t2 = new IngestThrottle();
        t2.setGlobal(1_000_000);
        t2.setAgent("slow", 100_000);
        assertWithin2Percent(100_000 * 10.0, greedy(t2, "slow", T0, 10 * NANOS_PER_SECOND, NANOS_PER_MILLI), "slow");
        IngestThrottle t3 = new IngestThrottle();
        t3.setAgent("only", 300_000);
        assertWithin2Percent(300_000 * 10.0, greedy(t3, "only", T0, 10 * NANOS_PER_SECOND, NANOS_PER_MILLI),
            "agent limit, global unlimited");
        assertEquals(Long.MAX_VALUE, t3.allowance("unlimited-one", T0));
    }

    @Property(tries = 200)
    void effectiveRateIsTheMinimumTreatingMinusOneAsInfinity(@ForAll("rates") long global, @ForAll("rates") long agent) {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(global);
        t.setAgent("a", agent);
        long expected = global == -1 ? agent : agent == -1 ? global : Math.min(global, agent);
        assertEquals(expected, t.effective("a"));
        assertEquals(expected, t.snapshot().effective("a"));
        assertEquals(global, t.effective("b"));
    }

    @Provide
    Arbitrary<Long> rates() {
        return Arbitraries.oneOf(Arbitraries.of(-1L, 0L, 1L, IngestThrottle.MAX_RATE),
                Arbitraries.longs().between(1, IngestThrottle.MAX_RATE));
    }

    @Test
    void settingAnAgentToUnlimitedClearsItAndTheNumberOfAgentSettingsIsBounded() {
        IngestThrottle t = new IngestThrottle(3);
        t.setAgent("a", 1);
        t.setAgent("b", 2);
        t.setAgent("c", 3);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.setAgent("d", 4));
        assertTrue(e.getMessage().contains("at most 3"), e.getMessage());
        t.setAgent("c", 30); // changing an existing one is fine at the limit
        assertEquals(Map.of("a", 1L, "b", 2L, "c", 30L), t.snapshot().agents());
        t.setAgent("b", -1);
        assertEquals(-1, t.agent("b"));
        t.setAgent("d", 4);
        assertTrue(t.clearAgent("a"));
        assertEquals(List.of("c", "d"), List.copyOf(t.snapshot().agents().keySet()));
        assertEquals(2, t.agentLimits());
    }

    @Test
    void badRatesAndAgentIdsAreRefused() {
        IngestThrottle t = new IngestThrottle();
        for (long bad : new long[] {-2, Long.MIN_VALUE, IngestThrottle.MAX_RATE + 1, Long.MAX_VALUE}) {
            assertThrows(IllegalArgumentException.class, () -> t.setGlobal(bad));
            assertThrows(IllegalArgumentException.class, () -> t.setAgent("a", bad));
        }
        for (String bad : new String[] {"", ".", "..", "a b", "a/b", "x".repeat(65), "é", null}) {
            assertThrows(IllegalArgumentException.class, () -> t.setAgent(bad, 5), String.valueOf(bad));
        }
        assertEquals(-1, t.global());
        assertEquals(0, t.agentLimits());
    }

    @Test
    void theBucketFillsOnlyToItsBurstEachNewSettingStartsEmptyAndTimeGoingBackAddsNothing() {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(IngestThrottle.MAX_RATE);
        t.allowance("a", T0);
        assertEquals(IngestThrottle.burst(IngestThrottle.MAX_RATE), t.allowance("a", T0 + NANOS_PER_SECOND));
        assertEquals(IngestThrottle.MAX_RATE / 100, IngestThrottle.burst(IngestThrottle.MAX_RATE));
        t.setGlobal(1000);
        assertEquals(0, t.allowance("a", T0 + NANOS_PER_SECOND));
        assertEquals(IngestThrottle.MIN_BURST, t.allowance("a", T0 + 1000 * NANOS_PER_SECOND));
        t.consume("a", IngestThrottle.MIN_BURST, T0 + 1000 * NANOS_PER_SECOND);
        assertEquals(0, t.allowance("a", T0 + 1000 * NANOS_PER_SECOND));
        assertEquals(0, t.allowance("a", T0)); // clock went back
        assertEquals(1, t.allowance("a", T0 + 1000 * NANOS_PER_SECOND + NANOS_PER_MILLI));
        // the same rate set again is a new setting too, even after an unlimited spell the engine never saw
        t.setGlobal(-1);
        t.setGlobal(1000);
        assertEquals(0, t.allowance("a", T0 + 2000 * NANOS_PER_SECOND));
    }

    @Test
    void bytesAcceptedBeyondTheAllowanceAreRepaidBeforeMoreIsAllowed() {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(100_000);
        t.allowance("a", T0);
        t.consume("a", 50_000, T0); // already in flight when the limit was set
        assertEquals(0, t.allowance("a", T0 + 499 * NANOS_PER_MILLI));
        assertEquals(100, t.allowance("a", T0 + 501 * NANOS_PER_MILLI));
    }

    @Property(tries = 200)
    void whenAllowedIsTheFirstInstantTheAllowanceReachesTheAmount(
            @ForAll @LongRange(min = 1, max = IngestThrottle.MAX_RATE) long rate,
            @ForAll @LongRange(min = 1, max = 65_536) long bytes,
            @ForAll @LongRange(min = 0, max = 2_000_000) long debt,
            @ForAll @LongRange(min = 0, max = 3 * NANOS_PER_MILLI) long pause) {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(rate);
        t.allowance("a", T0);
        t.consume("a", debt, T0);
        long now = T0 + pause;
        long when = t.whenAllowed("a", bytes, now);
        assertTrue(when >= now);
        // Probe on copies of the state so the probes do not refill the bucket under test.
        IngestThrottle before = replay(rate, debt, now);
        IngestThrottle at = replay(rate, debt, now);
        assertTrue(at.allowance("a", when) >= bytes, "allowance at " + when);
        if (when > now) {
            assertTrue(before.allowance("a", when - 1) < bytes, "allowance just before");
        }
    }

    private static IngestThrottle replay(long rate, long debt, long now) {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(rate);
        t.allowance("a", T0);
        t.consume("a", debt, T0);
        t.allowance("a", now);
        return t;
    }

    @Test
    void windowIsZeroBelowOneDatagramAndOtherwiseTheSmallerOfWindowAndAllowance() {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(1_000_000); // 1000 bytes per ms
        t.allowance("a", T0);
        assertEquals(0, t.window("a", 262_144, 1400, T0 + NANOS_PER_MILLI)); // 1000 < 1400
        assertEquals(2000, t.window("a", 262_144, 1400, T0 + 2 * NANOS_PER_MILLI));
        assertEquals(1500, t.window("a", 1500, 1400, T0 + 2 * NANOS_PER_MILLI));
        IngestThrottle w = new IngestThrottle();
        w.setGlobal(1_000_000);
        w.allowance("a", T0);
        assertEquals(T0 + 1_400_000, w.whenAllowed("a", 1400, T0 + NANOS_PER_MILLI)); // 1000 held, 400 more at 1 byte/us
        assertEquals(T0 + 2 * NANOS_PER_MILLI, w.whenAllowed("a", 2000, T0 + NANOS_PER_MILLI));
        // minOpen above the smallest burst is capped, so a slow rate still opens the window
        IngestThrottle slow = new IngestThrottle();
        slow.setGlobal(1000);
        slow.allowance("a", T0);
        assertEquals(IngestThrottle.MIN_BURST, slow.window("a", 1 << 20, 1 << 30, T0 + 100 * NANOS_PER_SECOND));
    }

    @Test
    void settingsWrittenByAnotherThreadAreSeenAndNeverBreakTheEngineSide() throws Exception {
        IngestThrottle t = new IngestThrottle(50);
        Thread writer = new Thread(() -> {
            Random r = new Random(42);
            for (int i = 0; i < 20_000; i++) {
                switch (r.nextInt(4)) {
                    case 0 -> t.setGlobal(r.nextInt(3) - 1 + (long) r.nextInt(1_000_000));
                    case 1 -> t.setAgent("a" + r.nextInt(60) % 50, r.nextInt(2_000_000) - 1);
                    case 2 -> t.clearAgent("a" + r.nextInt(50));
                    default -> t.snapshot();
                }
            }
        });
        writer.start();
        long now = T0;
        while (writer.isAlive()) {
            now += 10_000;
            for (int a = 0; a < 50; a += 7) {
                long allowance = t.allowance("a" + a, now);
                assertTrue(allowance >= 0);
                t.consume("a" + a, Math.min(allowance, 5000), now);
            }
        }
        writer.join();
        t.setGlobal(0);
        assertEquals(0, t.allowance("a1", now + NANOS_PER_SECOND));
    }
}
