package io.tailwire.crypto;

/**
 * A Noise message was rejected: a handshake or transport message that does not authenticate, has the
 * wrong length, or carries a public key that yields no shared secret. The message is the same whatever
 * the cause, so nothing an attacker can observe (text, type) says which check failed.
 */
public final class NoiseException extends Exception {
    private static final long serialVersionUID = 1L;

    NoiseException() {
        super("noise message rejected", null, false, false);
    }
}
