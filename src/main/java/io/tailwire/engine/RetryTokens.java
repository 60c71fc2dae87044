package io.tailwire.engine;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Stateless RETRY tokens (wire-spec.md 3): issued_at_ms (u64 LE) ‖ first 16 bytes of
 * HMAC-SHA256(secret, issued_at_ms ‖ address ‖ port ‖ agent_id). The clock is the endpoint's nowNs, which
 * is only meaningful within one process, so a token is valid only at the endpoint process that issued it
 * (a restarted server answers with a fresh RETRY, costing one round trip).
 */
final class RetryTokens {
    static final int LENGTH = 24;
    private final Mac mac;
    private final long validityMs;

    RetryTokens(byte[] secret, long validityNs) {
        try {
            mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.length == 0 ? new byte[1] : secret, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
        validityMs = validityNs / 1_000_000L;
    }

    byte[] issue(InetSocketAddress from, String agentId, long nowNs) {
        long issuedMs = Math.floorDiv(nowNs, 1_000_000L);
        byte[] token = new byte[LENGTH];
        putLong(token, issuedMs);
        System.arraycopy(tag(issuedMs, from, agentId), 0, token, 8, 16);
        return token;
    }

    boolean valid(byte[] token, InetSocketAddress from, String agentId, long nowNs) {
        if (token == null || token.length != LENGTH) {
            return false;
        }
        long issuedMs = 0;
        for (int i = 7; i >= 0; i--) {
            issuedMs = (issuedMs << 8) | (token[i] & 0xFF);
        }
        long age = Math.floorDiv(nowNs, 1_000_000L) - issuedMs;
        if (age < 0 || age > validityMs) {
            return false;
        }
        byte[] expected = tag(issuedMs, from, agentId);
        byte[] got = new byte[16];
        System.arraycopy(token, 8, got, 0, 16);
        return MessageDigest.isEqual(expected, got);
    }

    private byte[] tag(long issuedMs, InetSocketAddress from, String agentId) {
        byte[] ts = new byte[8];
        putLong(ts, issuedMs);
        mac.update(ts);
        if (from.getAddress() != null) {
            mac.update(from.getAddress().getAddress());
        }
        mac.update((byte) (from.getPort() & 0xFF));
        mac.update((byte) (from.getPort() >>> 8));
        mac.update(agentId.getBytes(StandardCharsets.UTF_8));
        byte[] full = mac.doFinal();
        byte[] out = new byte[16];
        System.arraycopy(full, 0, out, 0, 16);
        return out;
    }

    private static void putLong(byte[] b, long v) {
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
    }
}
