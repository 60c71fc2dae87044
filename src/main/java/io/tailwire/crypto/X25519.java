package io.tailwire.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;

import javax.crypto.KeyAgreement;

/**
 * Curve25519 Diffie-Hellman (RFC 7748) over raw 32-byte keys, as Noise's {@code 25519} DH functions,
 * using the JDK's {@code XDH} provider.
 *
 * <p>Byte order and clamping: a private key is the 32-byte scalar exactly as stored (little-endian);
 * {@link XECPrivateKeySpec} takes those bytes as they are and the JDK clamps ("prunes") them on every
 * multiplication, as RFC 7748 section 5 requires, so we must not clamp here (clamping twice is harmless,
 * but leaving the stored bytes alone keeps them equal to what other implementations store). A public key
 * is the little-endian u-coordinate; {@link XECPublicKeySpec} wants it as a {@link BigInteger}, so we
 * reverse the bytes, clear the top bit (RFC 7748: "implementations MUST mask the most significant bit in
 * the final byte") and reduce modulo p (non-canonical u values MUST be accepted).
 */
public final class X25519 {
    /** DHLEN of the Noise spec: bytes of a public key and of a DH output. */
    public static final int KEY_BYTES = 32;

    private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
    /** The base point u = 9: a public key is the private scalar times this point. */
    private static final byte[] BASE_POINT = basePoint();

    private X25519() {
    }

    /** A key pair; {@link #toString()} shows only the public half. */
    public record KeyPair(byte[] privateKey, byte[] publicKey) {
        public KeyPair {
            checkLength(privateKey);
            checkLength(publicKey);
        }

        /** The pair whose private key is {@code privateKey} (copied). */
        public static KeyPair fromPrivate(byte[] privateKey) {
            byte[] copy = privateKey.clone();
            return new KeyPair(copy, publicKeyOf(copy));
        }

        @Override
        public String toString() {
            return "X25519.KeyPair[public=" + Hex.encode(publicKey) + "]";
        }
    }

    /** The public key of {@code privateKey}: X25519(k, 9). */
    public static byte[] publicKeyOf(byte[] privateKey) {
        try {
            return dh(privateKey, BASE_POINT);
        } catch (NoiseException e) {
            throw new IllegalStateException("the base point has prime order; this cannot fail", e);
        }
    }

    /**
     * DH(private, public): the 32-byte shared secret. Throws for a public key of small order (the JDK
     * refuses an all-zero result); Noise lets an implementation abort the handshake there, which we do.
     */
    public static byte[] dh(byte[] privateKey, byte[] publicKey) throws NoiseException {
        checkLength(privateKey);
        checkLength(publicKey);
        try {
            KeyFactory factory = KeyFactory.getInstance("XDH");
            PrivateKey secret = factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, privateKey.clone()));
            PublicKey peer = factory.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, decodeU(publicKey)));
            KeyAgreement agreement = KeyAgreement.getInstance("XDH");
            agreement.init(secret);
            agreement.doPhase(peer, true);
            return agreement.generateSecret();
        } catch (InvalidKeyException smallOrder) {
            throw new NoiseException();
        } catch (GeneralSecurityException missing) {
            throw new IllegalStateException("JDK 17 provides XDH", missing);
        }
    }

    /** RFC 7748 decodeUCoordinate for 255 bits, reduced mod p. */
    static BigInteger decodeU(byte[] littleEndian) {
        byte[] bigEndian = new byte[KEY_BYTES];
        for (int i = 0; i < KEY_BYTES; i++) {
            bigEndian[i] = littleEndian[KEY_BYTES - 1 - i];
        }
        bigEndian[0] &= 0x7f;
        return new BigInteger(1, bigEndian).mod(P);
    }

    private static void checkLength(byte[] key) {
        if (key == null || key.length != KEY_BYTES) {
            throw new IllegalArgumentException("an X25519 key is " + KEY_BYTES + " bytes");
        }
    }

    private static byte[] basePoint() {
        byte[] u = new byte[KEY_BYTES];
        u[0] = 9;
        return u;
    }
}
