package io.tailwire.sim.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.engine.StoredStream;
import io.tailwire.proto.StreamOpen;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** The judge must catch what it is there to catch. */
class MemoryStreamStoreTest {
    static StoredStream open(MemoryStreamStore s) {
        return s.open("a", StreamOpen.newBuilder().setStreamId(1).setPath("/x").setGeneration(1).build()).stream();
    }

    static UnsafeBuffer bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return new UnsafeBuffer(b);
    }

    @Test
    void contiguousAppendsAreStoredAndRaiseNothing() {
        MemoryStreamStore s = new MemoryStreamStore(true, true);
        StoredStream st = open(s);
        st.append(0, bytes(1, 2, 3), 0, 3);
        st.append(3, bytes(4, 5), 0, 2);
        assertEquals(5, st.held());
        assertEquals(5, st.durable());
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, s.get("a", "/x", 1).content());
        assertTrue(s.violations().isEmpty(), s.violations().toString());
    }

    @Test
    void aGapIsRecordedAndNothingIsWritten() {
        MemoryStreamStore s = new MemoryStreamStore(true, true);
        StoredStream st = open(s);
        st.append(0, bytes(1), 0, 1);
        st.append(2, bytes(3), 0, 1);
        assertEquals(1, st.held());
        assertEquals(1, s.violations().size(), s.violations().toString());
        assertTrue(s.violations().get(0).contains("gap"));
    }

    @Test
    void anOverlapIsRecordedInStrictModeAndADifferentValueAlways() {
        MemoryStreamStore strict = new MemoryStreamStore(true, true);
        StoredStream st = open(strict);
        st.append(0, bytes(1, 2), 0, 2);
        st.append(1, bytes(2, 3), 0, 2);
        assertEquals(3, st.held());
        assertEquals(1, strict.violations().size(), strict.violations().toString());

        MemoryStreamStore lenient = new MemoryStreamStore(true, false);
        StoredStream l = open(lenient);
        l.append(0, bytes(1, 2), 0, 2);
        l.append(1, bytes(2, 3), 0, 2);
        assertTrue(lenient.violations().isEmpty(), "same bytes again is legal when not strict");
        l.append(0, bytes(9), 0, 1);
        assertEquals(1, lenient.violations().size(), "a different value for a held byte");
    }

    @Test
    void lazyDurabilityMovesOnlyOnSync() {
        MemoryStreamStore s = new MemoryStreamStore(false, true);
        StoredStream st = open(s);
        st.append(0, bytes(1, 2), 0, 2);
        assertEquals(0, st.durable());
        assertTrue(s.sync());
        assertEquals(2, st.durable());
        assertTrue(!s.sync(), "nothing left to sync");
    }
}
