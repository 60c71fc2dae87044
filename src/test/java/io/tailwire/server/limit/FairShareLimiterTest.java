package io.tailwire.server.limit;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;


import org.junit.jupiter.api.Test;

/**
 * The global rate is shared max-min fairly among agents however often each one is acknowledged; what an
 * agent leaves unused goes to the others. Virtual time; each agent sends its whole window at once.
 */
class FairShareLimiterTest {
    private static final long MPS = 1424;

    /**
     * Agent i asks for a window every ackEveryMs[i] ms and sends min(window, its demand so far); returns
     * bytes per agent over the last {@code measureMs}.
     */
    private static long[] simulate(FairShareLimiter lim, long[] ackEveryMs, long[] demandPerSec, long warmMs,
                                   long measureMs) {
        int n = ackEveryMs.length;
        long[] sent = new long[n];
        long[] backlog = new long[n];
        long start = 5_000 * NANOS_PER_MILLI;
        for (long ms = 0; ms < warmMs + measureMs; ms++) {
            long now = start + ms * NANOS_PER_MILLI;
            if (ms == warmMs) {
                Arrays.fill(sent, 0);
            }
            for (int i = 0; i < n; i++) {
                backlog[i] = demandPerSec[i] < 0 ? Long.MAX_VALUE / 4 : backlog[i] + demandPerSec[i] / 1000;
                if (ms % ackEveryMs[i] != 0) {
                    continue;
                }
                long w = lim.window("a" + i, 1 << 20, MPS, now);
                long s = Math.min(w, backlog[i]);
                if (s > 0) {
                    lim.consume("a" + i, s, now);
                    sent[i] += s;
                    backlog[i] -= s;
                }
            }
        }
        return sent;
    }

    @Test
    void greedyAgentsGetEqualSharesWhateverTheirAckRate() {
        IngestThrottle t = new IngestThrottle();
        long rate = 10_000_000;
        t.setGlobal(rate);
        long[] got = simulate(new FairShareLimiter(t), new long[] {1, 2, 5, 10}, new long[] {-1, -1, -1, -1},
            1_000, 4_000);
        double total = Arrays.stream(got).sum();
        String info = Arrays.toString(got);
        for (long g : got) {
            assertTrue(Math.abs(g - total / 4) <= 0.1 * total / 4, "unequal shares: " + info);
        }
        assertTrue(total <= rate * 4.0 * 1.05 && total >= rate * 4.0 * 0.9, "total off the rate: " + info);
    }

    @Test
    void whatALightAgentLeavesGoesToTheOthers() {
        IngestThrottle t = new IngestThrottle();
        long rate = 10_000_000;
        t.setGlobal(rate);
        long light = rate / 10;
        long[] got = simulate(new FairShareLimiter(t), new long[] {1, 1, 3, 7}, new long[] {light, -1, -1, -1},
            1_000, 4_000);
        String info = Arrays.toString(got);
        assertTrue(Math.abs(got[0] - light * 4) <= light * 4 / 10, "the light agent is held back: " + info);
        double greedyEach = (rate - light) * 4.0 / 3;
        for (int i = 1; i < 4; i++) {
            assertTrue(Math.abs(got[i] - greedyEach) <= 0.1 * greedyEach, "leftover not shared: " + info);
        }
    }

    @Test
    void oneAgentAloneMayUseTheWholeRate() {
        IngestThrottle t = new IngestThrottle();
        t.setGlobal(5_000_000);
        long[] got = simulate(new FairShareLimiter(t), new long[] {2}, new long[] {-1}, 500, 2_000);
        assertTrue(got[0] >= 5_000_000 * 2 * 0.95 && got[0] <= 5_000_000 * 2 * 1.05, Arrays.toString(got));
    }

    @Test
    void waterLevelIsTheLargestLevelWhoseCappedDemandsFitTheRate() {
        // Demands 1, 2, 10, 10 within 15: 1 + 2 fit, the other two split 12.
        assertEquals(6, FairShareLimiter.waterLevel(15, List.of(10L, 1L, 10L, 2L)));
        // Everything fits: no cap below the rate.
        assertEquals(100, FairShareLimiter.waterLevel(100, List.of(10L, 20L)));
        // Equal greedy demands: an equal split.
        assertEquals(25, FairShareLimiter.waterLevel(100, List.of(100L, 100L, 100L, 100L)));
    }
}
