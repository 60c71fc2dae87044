package io.tailwire.crypto;

import java.security.SecureRandom;

/**
 * Where a handshake gets its ephemeral private keys: the one source of randomness in this package, so
 * tests and the simulator can inject fixed keys and replay a handshake byte for byte.
 */
@FunctionalInterface
public interface EphemeralKeySource {
    /** A fresh 32-byte X25519 private key (any 32 bytes; the DH clamps them). */
    byte[] nextPrivateKey();

    /** Keys from {@code random}: the production source. */
    static EphemeralKeySource from(SecureRandom random) {
        return () -> {
            byte[] key = new byte[X25519.KEY_BYTES];
            random.nextBytes(key);
            return key;
        };
    }
}
