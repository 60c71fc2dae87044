package io.tailwire.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/**
 * The SymmetricState operations the IK vectors do not reach (MixKeyAndHash is for PSK modes; a name
 * longer than HASHLEN is hashed), checked against the spec's formulas written out with JDK calls.
 */
class SymmetricStateTest {
    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aNameOfAtMost32BytesIsPaddedWithZerosALongerOneIsHashed() {
        assertArrayEquals(Arrays.copyOf(bytes(HandshakeState.PROTOCOL_NAME), 32),
            new SymmetricState(HandshakeState.PROTOCOL_NAME).handshakeHash());
        String longName = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s_plus_padding";
        assertArrayEquals(SymmetricState.hash(bytes(longName)), new SymmetricState(longName).handshakeHash());
    }

    @Test
    void hkdfOutputsChainThroughHmacAsSection4_3Says() {
        byte[] ck = SymmetricState.hash(bytes("ck"));
        byte[] ikm = bytes("input key material");
        byte[][] three = SymmetricState.hkdf(ck, ikm, 3);
        byte[] temp = SymmetricState.hmac(ck, ikm);
        byte[] first = SymmetricState.hmac(temp, new byte[] {1});
        byte[] second = SymmetricState.hmac(temp, concat(first, new byte[] {2}));
        byte[] third = SymmetricState.hmac(temp, concat(second, new byte[] {3}));
        assertArrayEquals(first, three[0]);
        assertArrayEquals(second, three[1]);
        assertArrayEquals(third, three[2]);
        byte[][] two = SymmetricState.hkdf(ck, ikm, 2);
        assertArrayEquals(first, two[0]);
        assertArrayEquals(second, two[1]);
    }

    @Test
    void mixKeyAndHashMixesTheSecondOutputIntoHAndKeysTheCipherWithTheThird() throws NoiseException {
        SymmetricState state = new SymmetricState(HandshakeState.PROTOCOL_NAME);
        byte[] h0 = state.handshakeHash();
        assertFalse(state.hasKey());
        assertArrayEquals(bytes("clear"), state.encryptAndHash(bytes("clear")), "no key yet: passes through");
        byte[] h1 = SymmetricState.hash(concat(h0, bytes("clear")));
        assertArrayEquals(h1, state.handshakeHash());

        byte[] psk = SymmetricState.hash(bytes("psk"));
        byte[][] out = SymmetricState.hkdf(h0, psk, 3); // ck is still the initial h0
        state.mixKeyAndHash(psk);
        byte[] h2 = SymmetricState.hash(concat(h1, out[1]));
        assertArrayEquals(h2, state.handshakeHash());
        assertTrue(state.hasKey());

        CipherState expected = new CipherState();
        expected.initializeKey(out[2]);
        byte[] sealed = state.encryptAndHash(bytes("secret"));
        assertArrayEquals(expected.encryptWithAd(h2, bytes("secret")), sealed);
        assertEquals(6 + CipherState.TAG_BYTES, sealed.length);
    }
}
