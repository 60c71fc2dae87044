package io.tailwire.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** RFC 7748 vectors through the JDK conversion of raw little-endian keys. */
class X25519Test {
    @Test
    void rfc7748Section5_2VectorsIncludingAPublicKeyWithItsTopBitSet() throws NoiseException {
        assertArrayEquals(
            Hex.decode("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
            X25519.dh(Hex.decode("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
                Hex.decode("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")));
        // The u-coordinate's last byte is 0x93: its top bit must be masked, not rejected.
        assertArrayEquals(
            Hex.decode("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
            X25519.dh(Hex.decode("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
                Hex.decode("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493")));
    }

    @Test
    void rfc7748Section6_1KeyPairsAndSharedSecret() throws NoiseException {
        byte[] alice = Hex.decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        byte[] bob = Hex.decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
        byte[] alicePublic = Hex.decode("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        byte[] bobPublic = Hex.decode("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
        byte[] shared = Hex.decode("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assertArrayEquals(alicePublic, X25519.publicKeyOf(alice));
        assertArrayEquals(bobPublic, X25519.publicKeyOf(bob));
        assertArrayEquals(shared, X25519.dh(alice, bobPublic));
        assertArrayEquals(shared, X25519.dh(bob, alicePublic));
    }

    @Test
    void aPublicKeyOfSmallOrderIsRefusedRatherThanYieldingAnAllZeroSecret() {
        byte[] privateKey = Hex.decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        assertThrows(NoiseException.class, () -> X25519.dh(privateKey, new byte[32]));
        byte[] one = new byte[32];
        one[0] = 1;
        assertThrows(NoiseException.class, () -> X25519.dh(privateKey, one));
    }

    @Test
    void keysOfTheWrongLengthAreAProgrammingError() {
        assertThrows(IllegalArgumentException.class, () -> X25519.publicKeyOf(new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> X25519.dh(new byte[32], new byte[33]));
    }
}
