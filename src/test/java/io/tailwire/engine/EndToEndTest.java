package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class EndToEndTest {
    static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    @Test
    void cleanNetworkTransfersExactBytes() {
        Harness h = new Harness(1);
        byte[] data = randomBytes(1, 300_000);
        assertTrue(h.transfer("/var/log/a.log", data, 10_000 * NANOS_PER_MILLI), h.log::toString);
        assertArrayEquals(data, h.store.get("agent-1", "/var/log/a.log", 1).content());
        assertEquals(data.length, h.closedDurable);
        assertEquals(0, h.windowViolations);
        assertEquals(0, h.agent.stats().retransmissions());
    }
}
