package io.tailwire.crypto;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Noise SymmetricState (spec section 5.2) with SHA-256: the chaining key {@code ck}, the handshake hash
 * {@code h} and a {@link CipherState}. HASHLEN is 32 and BLOCKLEN 64; HKDF is the spec's (section 4.3),
 * built from HMAC-SHA256, which for two or three outputs equals RFC 5869 with {@code ck} as the salt.
 */
public final class SymmetricState {
    /** HASHLEN of SHA-256. */
    public static final int HASH_BYTES = 32;

    private final CipherState cipher = new CipherState();
    private byte[] ck;
    private byte[] h;

    /** InitializeSymmetric(protocol_name). */
    public SymmetricState(String protocolName) {
        byte[] name = protocolName.getBytes(StandardCharsets.US_ASCII);
        h = name.length <= HASH_BYTES ? Arrays.copyOf(name, HASH_BYTES) : hash(name);
        ck = h.clone();
        cipher.initializeKey(null);
    }

    /** MixKey(input_key_material): ck, temp_k = HKDF(ck, ikm, 2); the cipher is keyed with temp_k. */
    public void mixKey(byte[] inputKeyMaterial) {
        byte[][] out = hkdf(ck, inputKeyMaterial, 2);
        ck = out[0];
        cipher.initializeKey(out[1]);
    }

    /** MixHash(data): h = HASH(h || data). */
    public void mixHash(byte[] data) {
        MessageDigest sha = sha256();
        sha.update(h);
        sha.update(data);
        h = sha.digest();
    }

    /** MixKeyAndHash(input_key_material), for PSK modes: ck, temp_h, temp_k = HKDF(ck, ikm, 3). */
    public void mixKeyAndHash(byte[] inputKeyMaterial) {
        byte[][] out = hkdf(ck, inputKeyMaterial, 3);
        ck = out[0];
        mixHash(out[1]);
        cipher.initializeKey(out[2]);
    }

    /** GetHandshakeHash(): h, for channel binding once the handshake is over. */
    public byte[] handshakeHash() {
        return h.clone();
    }

    /** EncryptAndHash(plaintext): seals under h as associated data, then mixes the ciphertext into h. */
    public byte[] encryptAndHash(byte[] plaintext) {
        byte[] ciphertext = cipher.encryptWithAd(h, plaintext);
        mixHash(ciphertext);
        return ciphertext;
    }

    /** DecryptAndHash(ciphertext): opens under h as associated data, then mixes the ciphertext into h. */
    public byte[] decryptAndHash(byte[] ciphertext) throws NoiseException {
        byte[] plaintext = cipher.decryptWithAd(h, ciphertext);
        mixHash(ciphertext);
        return plaintext;
    }

    /** Whether EncryptAndHash seals (adds a tag) or passes bytes through. */
    public boolean hasKey() {
        return cipher.hasKey();
    }

    /** Split(): two CipherStates, the first for initiator to responder, the second for the way back. */
    public CipherState[] split() {
        byte[][] out = hkdf(ck, new byte[0], 2);
        CipherState c1 = new CipherState();
        CipherState c2 = new CipherState();
        c1.initializeKey(out[0]);
        c2.initializeKey(out[1]);
        Arrays.fill(out[0], (byte) 0);
        Arrays.fill(out[1], (byte) 0);
        Arrays.fill(ck, (byte) 0);
        return new CipherState[] {c1, c2};
    }

    /** HASH(data). */
    static byte[] hash(byte[] data) {
        return sha256().digest(data);
    }

    /**
     * HKDF(chaining_key, input_key_material, num_outputs), spec section 4.3: temp_key = HMAC(ck, ikm);
     * output1 = HMAC(temp_key, 0x01); output_i = HMAC(temp_key, output_(i-1) || i).
     */
    static byte[][] hkdf(byte[] chainingKey, byte[] inputKeyMaterial, int outputs) {
        if (outputs != 2 && outputs != 3) {
            throw new IllegalArgumentException("Noise HKDF gives 2 or 3 outputs");
        }
        byte[] tempKey = hmac(chainingKey, inputKeyMaterial);
        byte[][] out = new byte[outputs][];
        byte[] previous = new byte[0];
        for (int i = 0; i < outputs; i++) {
            byte[] input = Arrays.copyOf(previous, previous.length + 1);
            input[previous.length] = (byte) (i + 1);
            out[i] = hmac(tempKey, input);
            previous = out[i];
        }
        Arrays.fill(tempKey, (byte) 0);
        return out;
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK 17 provides HmacSHA256", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK 17 provides SHA-256", e);
        }
    }
}
