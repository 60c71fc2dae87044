package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;

class RetryTokensTest {
    final RetryTokens tokens = new RetryTokens("k".getBytes(), 30_000 * NANOS_PER_MILLI);
    final InetSocketAddress from = new InetSocketAddress("192.0.2.7", 5555);

    @Test
    void tokenIsValidForThirtySecondsAtTheSameAddressAndAgent() {
        long t0 = 123_456 * NANOS_PER_MILLI;
        byte[] tok = tokens.issue(from, "web-01", t0);
        assertEquals(24, tok.length);
        assertTrue(tokens.valid(tok, from, "web-01", t0));
        assertTrue(tokens.valid(tok, from, "web-01", t0 + 30_000 * NANOS_PER_MILLI));
        assertFalse(tokens.valid(tok, from, "web-01", t0 + 30_001 * NANOS_PER_MILLI));
        assertFalse(tokens.valid(tok, from, "web-01", t0 - NANOS_PER_MILLI)); // from the future
    }

    @Test
    void tokenIsBoundToAddressPortAgentAndSecret() {
        long t0 = 5 * NANOS_PER_MILLI;
        byte[] tok = tokens.issue(from, "web-01", t0);
        assertFalse(tokens.valid(tok, new InetSocketAddress("192.0.2.8", 5555), "web-01", t0));
        assertFalse(tokens.valid(tok, new InetSocketAddress("192.0.2.7", 5556), "web-01", t0));
        assertFalse(tokens.valid(tok, from, "web-02", t0));
        assertFalse(new RetryTokens("other".getBytes(), 30_000 * NANOS_PER_MILLI).valid(tok, from, "web-01", t0));
        for (int i = 0; i < tok.length; i++) {
            byte[] bad = tok.clone();
            bad[i] ^= 1;
            assertFalse(tokens.valid(bad, from, "web-01", t0), "flipped byte " + i);
        }
        assertFalse(tokens.valid(new byte[0], from, "web-01", t0));
        assertFalse(tokens.valid(java.util.Arrays.copyOf(tok, 23), from, "web-01", t0));
    }
}
