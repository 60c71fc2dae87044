package io.tailwire.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SackBitmapTest {
    @Test
    void inOrderPacketsAdvanceCumulativeWithoutSackBits() {
        SackBitmap s = new SackBitmap();
        for (int i = 0; i < 3000; i++) {
            assertEquals(SackBitmap.NEW, s.mark(i));
        }
        assertEquals(3000, s.cumulative());
        assertEquals(0, s.wordCount());
        assertFalse(s.hasGap());
    }

    @Test
    void firstAndLastBitOfEveryWordMapToTheRightPackets() {
        for (long start : new long[] {0, 5, 1000, 1023, 1024, 77_777}) {
            SackBitmap s = new SackBitmap();
            for (long p = 0; p < start; p++) {
                s.mark(p);
            }
            assertEquals(start, s.cumulative());
            for (int w = 0; w < 16; w++) {
                long first = start + 1 + 64L * w;
                long last = first + 63;
                s.mark(first);
                if (last < start + SackBitmap.RANGE) {
                    s.mark(last);
                }
            }
            for (int w = 0; w < 16; w++) {
                long word = s.word(w);
                assertTrue((word & 1L) != 0, "first bit of word " + w + " start " + start);
                if (w < 15) {
                    assertTrue((word & (1L << 63)) != 0, "last bit of word " + w);
                    assertEquals((1L << 63) | 1L, word);
                } else {
                    assertEquals(1L, word); // packet cumulative + 1024 is outside the range
                }
            }
            assertEquals(16, s.wordCount());
            assertEquals(start, s.cumulative());
        }
    }

    @Test
    void windowEdgeIsEnforced() {
        SackBitmap s = new SackBitmap();
        assertEquals(SackBitmap.BEYOND, s.mark(1024));
        assertEquals(SackBitmap.NEW, s.mark(1023));
        assertEquals(0, s.cumulative());
        assertEquals(1L << 62, s.word(15)); // packet 1023 = 0 + 1 + 64*15 + 62
        assertEquals(SackBitmap.NEW, s.mark(0));
        assertEquals(1, s.cumulative());
        assertEquals(SackBitmap.NEW, s.mark(1024)); // the range moved with cumulative
    }

    @Test
    void duplicatesAndStalePacketsAreRecognised() {
        SackBitmap s = new SackBitmap();
        s.mark(0);
        s.mark(2);
        assertEquals(SackBitmap.DUPLICATE, s.mark(2));
        assertEquals(SackBitmap.BELOW, s.mark(0));
        assertTrue(s.contains(0));
        assertTrue(s.contains(2));
        assertFalse(s.contains(1));
        assertTrue(s.hasGap());
        assertEquals(1L, s.word(0)); // packet 2 = cumulative(1) + 1 + 0
        assertEquals(SackBitmap.NEW, s.mark(1));
        assertEquals(3, s.cumulative());
        assertFalse(s.hasGap());
        assertEquals(0, s.wordCount());
    }

    @Test
    void ringWrapsAcrossManyRanges() {
        SackBitmap s = new SackBitmap();
        // Receive every packet of blocks in reverse, over many ring turns.
        for (long blockStart = 0; blockStart < 20 * 1024; blockStart += 700) {
            for (long p = blockStart + 699; p >= blockStart; p--) {
                assertEquals(SackBitmap.NEW, s.mark(p));
            }
            assertEquals(blockStart + 700, s.cumulative());
            assertEquals(0, s.wordCount());
        }
    }
}
