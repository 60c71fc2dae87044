package io.tailwire.crypto;

import java.security.GeneralSecurityException;
import java.util.Arrays;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Noise CipherState (spec section 5.1) for the {@code AESGCM} cipher: a 32-byte key {@code k} (or none)
 * and a 64-bit unsigned nonce {@code n} that advances once per successful encryption or decryption, so a
 * nonce is never used twice under one key by this object.
 *
 * <p>The AES-GCM nonce is 96 bits: 32 bits of zeros followed by {@code n} big-endian (spec section 12.3).
 * The nonce 2^64-1 is reserved for {@link #rekey()}: once {@code n} reaches it, encrypting or decrypting
 * throws {@link IllegalStateException} (a key that lived that long must have been replaced long before).
 *
 * <p>Decryption that fails (wrong key, wrong nonce, wrong associated data, any altered byte, too short)
 * leaves {@code n} unchanged and says nothing about which of these it was. Not thread-safe: one
 * CipherState is one direction of one session.
 */
public final class CipherState {
    /** TAGLEN: bytes an AEAD seal adds. */
    public static final int TAG_BYTES = 16;
    /** Bytes of a cipher key. */
    public static final int KEY_BYTES = 32;
    /** The nonce reserved for rekeying; as a signed long, -1. */
    static final long MAX_NONCE = 0xFFFF_FFFF_FFFF_FFFFL;

    private static final int GCM_TAG_BITS = TAG_BYTES * 8;
    private static final int GCM_NONCE_BYTES = 12;

    private final byte[] nonceBytes = new byte[GCM_NONCE_BYTES];
    private Cipher cipher;
    private SecretKeySpec key;
    private long n;

    /** A CipherState with no key: encryption and decryption pass bytes through, as during a handshake's start. */
    public CipherState() {
    }

    /** InitializeKey(k): sets the key and resets the nonce to 0; {@code null} means empty. */
    public void initializeKey(byte[] k) {
        if (k != null && k.length != KEY_BYTES) {
            throw new IllegalArgumentException("a cipher key is " + KEY_BYTES + " bytes");
        }
        key = k == null ? null : new SecretKeySpec(k, "AES");
        n = 0;
    }

    public boolean hasKey() {
        return key != null;
    }

    /** SetNonce(n), for the explicit-nonce transport of a later step (and for tests); unsigned. */
    public void setNonce(long nonce) {
        n = nonce;
    }

    /** The nonce the next encryption or decryption will use (unsigned). */
    public long nonce() {
        return n;
    }

    /** EncryptWithAd(ad, plaintext): returns the ciphertext with its tag (or the plaintext if there is no key). */
    public byte[] encryptWithAd(byte[] ad, byte[] plaintext) {
        if (!hasKey()) {
            return plaintext.clone();
        }
        byte[] out = Arrays.copyOf(plaintext, plaintext.length + TAG_BYTES);
        encryptInPlace(ad, 0, ad.length, out, 0, plaintext.length);
        return out;
    }

    /**
     * DecryptWithAd(ad, ciphertext): the plaintext (or the ciphertext if there is no key). Throws and
     * keeps the nonce if the ciphertext does not authenticate.
     */
    public byte[] decryptWithAd(byte[] ad, byte[] ciphertext) throws NoiseException {
        if (!hasKey()) {
            return ciphertext.clone();
        }
        byte[] buffer = ciphertext.clone();
        int length = decryptInPlace(ad, 0, ad.length, buffer, 0, buffer.length);
        if (length < 0) {
            throw new NoiseException();
        }
        return Arrays.copyOf(buffer, length);
    }

    /**
     * Seals {@code buffer[offset, offset + length)} in place and appends the tag, so the buffer needs
     * {@link #TAG_BYTES} more bytes after the plaintext. Returns the ciphertext length, length + 16.
     * Requires a key: the data path never runs unkeyed.
     */
    public int encryptInPlace(byte[] ad, int adOffset, int adLength, byte[] buffer, int offset, int length) {
        requireKey();
        if (offset < 0 || length < 0 || buffer.length - offset - length < TAG_BYTES) {
            throw new IllegalArgumentException("no room for the " + TAG_BYTES + "-byte tag after the plaintext");
        }
        Cipher c = begin(Cipher.ENCRYPT_MODE, ad, adOffset, adLength);
        try {
            int written = c.doFinal(buffer, offset, length, buffer, offset);
            n++;
            return written;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption cannot fail for a valid key and fresh nonce", e);
        }
    }

    /**
     * Opens {@code buffer[offset, offset + length)} (ciphertext and tag) in place. Returns the plaintext
     * length (length - 16), or -1 if it does not authenticate; then the nonce is unchanged and the
     * buffer left as it was (the JDK checks the tag before it writes; {@code CipherStateTest} pins that).
     */
    public int decryptInPlace(byte[] ad, int adOffset, int adLength, byte[] buffer, int offset, int length) {
        requireKey();
        if (offset < 0 || length < 0 || offset > buffer.length - length) {
            throw new IllegalArgumentException("region outside the buffer");
        }
        if (length < TAG_BYTES) {
            return -1;
        }
        Cipher c = begin(Cipher.DECRYPT_MODE, ad, adOffset, adLength);
        try {
            int written = c.doFinal(buffer, offset, length, buffer, offset);
            n++;
            return written;
        } catch (AEADBadTagException rejected) {
            return -1;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM decryption fails only on the tag", e);
        }
    }

    /**
     * Rekey() (spec section 4.2): k = the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes). The
     * nonce is kept; both peers must rekey at the same point in the message stream.
     */
    public void rekey() {
        requireKey();
        byte[] fresh = new byte[KEY_BYTES + TAG_BYTES];
        long kept = n;
        n = MAX_NONCE;
        Cipher c = init(Cipher.ENCRYPT_MODE);
        try {
            c.doFinal(fresh, 0, KEY_BYTES, fresh, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM encryption cannot fail for a valid key", e);
        }
        key = new SecretKeySpec(fresh, 0, KEY_BYTES, "AES");
        Arrays.fill(fresh, (byte) 0);
        n = kept;
    }

    private Cipher begin(int mode, byte[] ad, int adOffset, int adLength) {
        if (n == MAX_NONCE) {
            throw new IllegalStateException("nonce 2^64-1 reached: this key is used up and must be replaced");
        }
        Cipher c = init(mode);
        c.updateAAD(ad, adOffset, adLength);
        return c;
    }

    private Cipher init(int mode) {
        // 32 bits of zeros, then n big-endian (Noise spec 12.3). Bytes 0..3 stay zero.
        for (int i = 0; i < Long.BYTES; i++) {
            nonceBytes[GCM_NONCE_BYTES - 1 - i] = (byte) (n >>> (8 * i));
        }
        try {
            if (cipher == null) {
                cipher = Cipher.getInstance("AES/GCM/NoPadding");
            }
            cipher.init(mode, key, new GCMParameterSpec(GCM_TAG_BITS, nonceBytes));
            return cipher;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("JDK 17 provides AES/GCM/NoPadding", e);
        }
    }

    private void requireKey() {
        if (!hasKey()) {
            throw new IllegalStateException("no key");
        }
    }
}
