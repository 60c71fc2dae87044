package io.tailwire.bench;

import io.tailwire.engine.SackBitmap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The receiver's SACK bitmap: marking packets in order, marking with a gap every 64 packets (filled 8
 * packets later, as after a reordering), and scanning the words for an ACK.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Thread)
public class SackBenchmark {
    private final SackBitmap inOrder = new SackBitmap();
    private final SackBitmap gappy = new SackBitmap();
    private long pnInOrder;
    private long pnGappy;
    private long held = -1;

    @Benchmark
    public int markInOrder() {
        return inOrder.mark(pnInOrder++);
    }

    /** One packet per call: every 64th is held back and marked 8 packets later. */
    @Benchmark
    public int markWithReorder() {
        long pn = pnGappy++;
        int r = 0;
        if ((pn & 63) == 0) {
            held = pn;
        } else {
            r = gappy.mark(pn);
        }
        if (held >= 0 && pn - held == 8) {
            r += gappy.mark(held);
            held = -1;
        }
        return r;
    }

    /** What an ACK does with the bitmap: every word plus cumulative and the gap flag. */
    @Benchmark
    public long scanForAck() {
        long s = gappy.cumulative() + (gappy.hasGap() ? 1 : 0);
        int n = gappy.wordCount();
        for (int w = 0; w < n; w++) {
            s ^= gappy.word(w);
        }
        return s;
    }
}
