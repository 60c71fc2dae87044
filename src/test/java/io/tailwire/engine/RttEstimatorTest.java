package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MICRO;
import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RttEstimatorTest {
    @Test
    void beforeAnySampleRtoIsTheInitialRtt() {
        RttEstimator r = new RttEstimator();
        assertFalse(r.hasSample());
        assertEquals(100 * NANOS_PER_MILLI, r.rtoNs());
    }

    @Test
    void firstSampleSetsSrttAndHalfVariance() {
        RttEstimator r = new RttEstimator();
        r.onSample(40 * NANOS_PER_MILLI, 0, 0);
        assertEquals(40 * NANOS_PER_MILLI, r.srttNs());
        assertEquals(20 * NANOS_PER_MILLI, r.rttvarNs());
        // 40 + max(1, 80) + 1 (max_ack_delay)
        assertEquals(121 * NANOS_PER_MILLI, r.rtoNs());
    }

    @Test
    void laterSamplesSmoothWithOneEighthAndOneQuarter() {
        RttEstimator r = new RttEstimator();
        r.onSample(80 * NANOS_PER_MILLI, 0, 0);           // srtt 80, var 40
        r.onSample(40 * NANOS_PER_MILLI, 0, 0);           // var = 3/4*40 + 1/4*|80-40| = 40; srtt = 7/8*80 + 1/8*40 = 75
        assertEquals(75 * NANOS_PER_MILLI, r.srttNs());
        assertEquals(40 * NANOS_PER_MILLI, r.rttvarNs());
        r.onSample(75 * NANOS_PER_MILLI, 0, 0);           // var = 30, srtt = 75
        assertEquals(75 * NANOS_PER_MILLI, r.srttNs());
        assertEquals(30 * NANOS_PER_MILLI, r.rttvarNs());
    }

    @Test
    void ackDelayIsSubtractedOnlyWhenResultStaysAtOrAboveMinRtt() {
        RttEstimator r = new RttEstimator();
        r.onSample(10 * NANOS_PER_MILLI, 0, 0);           // min rtt 10
        RttEstimator a = new RttEstimator();
        a.onSample(10 * NANOS_PER_MILLI, 0, 0);
        a.onSample(14 * NANOS_PER_MILLI, 3 * NANOS_PER_MILLI, 0);      // 14 - 3 = 11 >= 10: uses 11
        r.onSample(11 * NANOS_PER_MILLI, 0, 0);
        assertEquals(r.srttNs(), a.srttNs());
        RttEstimator b = new RttEstimator();
        b.onSample(10 * NANOS_PER_MILLI, 0, 0);
        b.onSample(12 * NANOS_PER_MILLI, 5 * NANOS_PER_MILLI, 0);      // 12 - 5 = 7 < 10: uses 12
        RttEstimator c = new RttEstimator();
        c.onSample(10 * NANOS_PER_MILLI, 0, 0);
        c.onSample(12 * NANOS_PER_MILLI, 0, 0);
        assertEquals(c.srttNs(), b.srttNs());
    }

    @Test
    void rtoIsClampedToItsMinimumAndMaximum() {
        RttEstimator fast = new RttEstimator(100 * NANOS_PER_MILLI, 2 * NANOS_PER_MILLI, 2000 * NANOS_PER_MILLI,
            NANOS_PER_MILLI);
        for (int i = 0; i < 50; i++) {
            fast.onSample(20 * NANOS_PER_MICRO, 0, 0);
        }
        // srtt 20us + max(1ms, tiny) + 1ms = 2.02 ms, just above the floor; with zero it would clamp.
        assertTrue(fast.rtoNs() >= 2 * NANOS_PER_MILLI && fast.rtoNs() <= 3 * NANOS_PER_MILLI, () -> "rto " + fast.rtoNs());
        RttEstimator zero = new RttEstimator(100 * NANOS_PER_MILLI, 2 * NANOS_PER_MILLI, 2000 * NANOS_PER_MILLI, 0);
        for (int i = 0; i < 50; i++) {
            zero.onSample(10 * NANOS_PER_MICRO, 0, 0);
        }
        assertEquals(2 * NANOS_PER_MILLI, zero.rtoNs());
        RttEstimator slow = new RttEstimator();
        slow.onSample(5000 * NANOS_PER_MILLI, 0, 0);
        assertEquals(2000 * NANOS_PER_MILLI, slow.rtoNs());
    }

    @Test
    void backoffDoublesPerExpiryAndCapsAtMaxRto() {
        RttEstimator r = new RttEstimator();
        r.onSample(40 * NANOS_PER_MILLI, 0, 0);
        long base = r.rtoNs();
        assertEquals(base, r.rtoNs(0));
        assertEquals(2 * base, r.rtoNs(1));
        assertEquals(4 * base, r.rtoNs(2));
        assertEquals(8 * base, r.rtoNs(3));
        assertEquals(2000 * NANOS_PER_MILLI, r.rtoNs(5));
        assertEquals(2000 * NANOS_PER_MILLI, r.rtoNs(60)); // no overflow
    }

    @Test
    void negativeSamplesAreIgnored() {
        RttEstimator r = new RttEstimator();
        r.onSample(-5, 0, 0);
        assertFalse(r.hasSample());
    }

    @Test
    void recentMaxCoversTheLastOneToTwoSmoothedRtts() {
        RttEstimator r = new RttEstimator();
        r.onSample(10 * NANOS_PER_MILLI, 0, 0);
        r.onSample(30 * NANOS_PER_MILLI, 0, 5 * NANOS_PER_MILLI);          // srtt 12.5 ms; same window
        assertEquals(30 * NANOS_PER_MILLI, r.recentMaxNs());
        r.onSample(10 * NANOS_PER_MILLI, 0, 20 * NANOS_PER_MILLI);         // a new window: the 30 ms one is still the previous one
        assertEquals(30 * NANOS_PER_MILLI, r.recentMaxNs());
        r.onSample(10 * NANOS_PER_MILLI, 0, 40 * NANOS_PER_MILLI);         // and another: the 30 ms sample has aged out
        assertEquals(10 * NANOS_PER_MILLI, r.recentMaxNs());
    }
}
