package io.tailwire.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.junit.jupiter.api.Test;

class CipherStateTest {
    private static final byte[] KEY = Hex.decode("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    private static final byte[] AD = "header".getBytes(StandardCharsets.US_ASCII);

    private static CipherState keyed(byte[] key) {
        CipherState cs = new CipherState();
        cs.initializeKey(key);
        return cs;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** AES-256-GCM straight from the JDK with the Noise nonce layout: 4 zero bytes, then n big-endian. */
    private static byte[] jdkSeal(byte[] key, long n, byte[] ad, byte[] plaintext) throws Exception {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        byte[] nonce = ByteBuffer.allocate(12).putInt(0).putLong(n).array();
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
        c.updateAAD(ad);
        return c.doFinal(plaintext);
    }

    @Test
    void threeMessagesAreSealedUnderNonces0Then1Then2() throws Exception {
        CipherState cs = keyed(KEY);
        for (long expected = 0; expected < 3; expected++) {
            assertEquals(expected, cs.nonce());
            byte[] plaintext = bytes("message " + expected);
            assertArrayEquals(jdkSeal(KEY, expected, AD, plaintext), cs.encryptWithAd(AD, plaintext),
                "sealed under nonce " + expected);
        }
        assertEquals(3, cs.nonce());
    }

    @Test
    void aReplayedMessageFailsToDecryptAndChangesNoState() throws Exception {
        CipherState sender = keyed(KEY);
        CipherState receiver = keyed(KEY);
        byte[] first = sender.encryptWithAd(AD, bytes("first"));
        byte[] second = sender.encryptWithAd(AD, bytes("second"));
        assertArrayEquals(bytes("first"), receiver.decryptWithAd(AD, first));
        assertThrows(NoiseException.class, () -> receiver.decryptWithAd(AD, first));
        assertEquals(1, receiver.nonce(), "a rejected message does not advance the nonce");
        assertArrayEquals(bytes("second"), receiver.decryptWithAd(AD, second));
    }

    @Test
    void aReorderedMessageFailsUnderTheImplicitCounterUntilItsTurnComes() throws Exception {
        CipherState sender = keyed(KEY);
        CipherState receiver = keyed(KEY);
        byte[] first = sender.encryptWithAd(AD, bytes("first"));
        byte[] second = sender.encryptWithAd(AD, bytes("second"));
        assertThrows(NoiseException.class, () -> receiver.decryptWithAd(AD, second));
        assertEquals(0, receiver.nonce());
        assertArrayEquals(bytes("first"), receiver.decryptWithAd(AD, first));
        assertArrayEquals(bytes("second"), receiver.decryptWithAd(AD, second));
    }

    @Test
    void everySingleBitFlipInCiphertextTagOrAssociatedDataIsRejectedLeavingNonceAndBufferUnchanged() {
        byte[] sealed = keyed(KEY).encryptWithAd(AD, bytes("seventeen bytes!!"));
        CipherState receiver = keyed(KEY);
        for (int bit = 0; bit < sealed.length * 8; bit++) {
            byte[] tampered = sealed.clone();
            tampered[bit / 8] ^= (byte) (1 << (bit % 8));
            byte[] before = tampered.clone();
            assertEquals(-1, receiver.decryptInPlace(AD, 0, AD.length, tampered, 0, tampered.length), "bit " + bit);
            assertArrayEquals(before, tampered, "a rejected message leaves the buffer as it was; bit " + bit);
        }
        for (int bit = 0; bit < AD.length * 8; bit++) {
            byte[] ad = AD.clone();
            ad[bit / 8] ^= (byte) (1 << (bit % 8));
            byte[] copy = sealed.clone();
            assertEquals(-1, receiver.decryptInPlace(ad, 0, ad.length, copy, 0, copy.length), "ad bit " + bit);
        }
        assertEquals(0, receiver.nonce());
        assertEquals(-1, receiver.decryptInPlace(AD, 0, AD.length, sealed, 0, CipherState.TAG_BYTES - 1),
            "shorter than a tag");
        assertEquals(17, receiver.decryptInPlace(AD, 0, AD.length, sealed, 0, sealed.length));
    }

    @Test
    void inPlaceSealingAtAnOffsetMatchesTheArrayVariantAndOpensInPlace() {
        byte[] plaintext = bytes("datagram payload");
        byte[] expected = keyed(KEY).encryptWithAd(AD, plaintext);
        byte[] frame = new byte[7 + plaintext.length + CipherState.TAG_BYTES + 5];
        System.arraycopy(plaintext, 0, frame, 7, plaintext.length);
        byte[] adFrame = new byte[3 + AD.length];
        System.arraycopy(AD, 0, adFrame, 3, AD.length);

        CipherState sender = keyed(KEY);
        assertEquals(expected.length, sender.encryptInPlace(adFrame, 3, AD.length, frame, 7, plaintext.length));
        assertArrayEquals(expected, Arrays.copyOfRange(frame, 7, 7 + expected.length));

        CipherState receiver = keyed(KEY);
        assertEquals(plaintext.length, receiver.decryptInPlace(adFrame, 3, AD.length, frame, 7, expected.length));
        assertArrayEquals(plaintext, Arrays.copyOfRange(frame, 7, 7 + plaintext.length));
        assertThrows(IllegalArgumentException.class,
            () -> sender.encryptInPlace(AD, 0, AD.length, new byte[20], 0, 5), "no room for the tag");
    }

    @Test
    void nonce2Pow64Minus1IsReservedSoTheKeyIsUsedUpAfter2Pow64Minus2() {
        CipherState cs = keyed(KEY);
        cs.setNonce(CipherState.MAX_NONCE - 1);
        cs.encryptWithAd(AD, bytes("last"));
        assertEquals(CipherState.MAX_NONCE, cs.nonce());
        assertThrows(IllegalStateException.class, () -> cs.encryptWithAd(AD, bytes("one too many")));
        CipherState receiver = keyed(KEY);
        receiver.setNonce(CipherState.MAX_NONCE);
        assertThrows(IllegalStateException.class, () -> receiver.decryptWithAd(AD, new byte[32]));
    }

    @Test
    void rekeyReplacesTheKeyWithTheSpecFormulaAndKeepsTheNonce() throws Exception {
        // Spec 4.2: REKEY(k) = the first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, 32 zero bytes).
        byte[] expectedKey = Arrays.copyOf(jdkSeal(KEY, -1L, new byte[0], new byte[32]), 32);
        CipherState sender = keyed(KEY);
        CipherState receiver = keyed(KEY);
        byte[] before = sender.encryptWithAd(AD, bytes("before"));
        receiver.decryptWithAd(AD, before);
        sender.rekey();
        receiver.rekey();
        assertEquals(1, sender.nonce());
        byte[] after = sender.encryptWithAd(AD, bytes("after"));
        assertArrayEquals(jdkSeal(expectedKey, 1, AD, bytes("after")), after);
        assertArrayEquals(bytes("after"), receiver.decryptWithAd(AD, after));

        CipherState stale = keyed(KEY);
        stale.setNonce(1);
        assertThrows(NoiseException.class, () -> stale.decryptWithAd(AD, after), "the old key no longer opens");
    }

    @Test
    void withoutAKeyBytesPassThroughAsTheSpecSaysAndTheDataPathRefuses() throws NoiseException {
        CipherState cs = new CipherState();
        assertFalse(cs.hasKey());
        assertArrayEquals(bytes("clear"), cs.encryptWithAd(AD, bytes("clear")));
        assertArrayEquals(bytes("clear"), cs.decryptWithAd(AD, bytes("clear")));
        assertEquals(0, cs.nonce(), "the nonce advances only under a key");
        assertThrows(IllegalStateException.class, () -> cs.encryptInPlace(AD, 0, 0, new byte[16], 0, 0));
        assertThrows(IllegalArgumentException.class, () -> cs.initializeKey(new byte[16]));
    }
}
