package io.tailwire.crypto;

import java.util.Arrays;

/**
 * Noise HandshakeState (spec section 5.3) for exactly one protocol, {@value #PROTOCOL_NAME}:
 *
 * <pre>
 * IK:
 *   &lt;- s
 *   ...
 *   -&gt; e, es, s, ss
 *   &lt;- e, ee, se
 * </pre>
 *
 * The initiator knows the responder's static public key before it starts (the pre-message {@code <- s}),
 * so one round trip authenticates both sides, and the initiator's static key travels encrypted. Sans-IO:
 * byte arrays in and out, ephemeral keys from an {@link EphemeralKeySource}.
 *
 * <p>Order of calls. Initiator: {@link #writeMessage} then {@link #readMessage}. Responder:
 * {@link #readMessage}, then (after checking {@link #remoteStaticKey()} against the keys it accepts)
 * {@link #writeMessage}. After the second message {@link #transport()} returns the two transport
 * CipherStates. Any rejected message ends the handshake: every later call throws
 * {@link IllegalStateException}, and {@link NoiseException} never says which check failed.
 */
public final class HandshakeState {
    public static final String PROTOCOL_NAME = "Noise_IK_25519_AESGCM_SHA256";
    /** Noise's limit on any message, handshake or transport (spec section 3). */
    public static final int MAX_MESSAGE_BYTES = 65535;
    /** e (32) + encrypted s (32 + 16) + the payload's tag (16): the smallest first message. */
    public static final int MIN_FIRST_MESSAGE_BYTES = X25519.KEY_BYTES + X25519.KEY_BYTES + 2 * CipherState.TAG_BYTES;
    /** e (32) + the payload's tag (16): the smallest second message. */
    public static final int MIN_SECOND_MESSAGE_BYTES = X25519.KEY_BYTES + CipherState.TAG_BYTES;

    /** The two directions of a finished session. */
    public record TransportKeys(CipherState send, CipherState receive) {
    }

    private final boolean initiator;
    private final SymmetricState symmetric = new SymmetricState(PROTOCOL_NAME);
    private final X25519.KeyPair s;
    private final EphemeralKeySource ephemeralKeys;
    private X25519.KeyPair e;
    private byte[] rs;
    private byte[] re;
    private int messages;
    private boolean failed;
    private TransportKeys transport;
    private byte[] handshakeHash;

    private HandshakeState(boolean initiator, byte[] prologue, X25519.KeyPair s, byte[] rs, EphemeralKeySource ephemeralKeys) {
        this.initiator = initiator;
        this.s = s;
        this.rs = rs == null ? null : rs.clone();
        this.ephemeralKeys = ephemeralKeys;
        symmetric.mixHash(prologue);
        // Pre-message "<- s": both sides hash the responder's static public key.
        symmetric.mixHash(initiator ? this.rs : s.publicKey());
    }

    /** The initiator (the agent): knows its own static key pair and the responder's static public key. */
    public static HandshakeState initiator(byte[] prologue, X25519.KeyPair staticKeys, byte[] responderStaticKey,
            EphemeralKeySource ephemeralKeys) {
        if (responderStaticKey == null || responderStaticKey.length != X25519.KEY_BYTES) {
            throw new IllegalArgumentException("the responder's static key is " + X25519.KEY_BYTES + " bytes");
        }
        return new HandshakeState(true, prologue, staticKeys, responderStaticKey, ephemeralKeys);
    }

    /** The responder (the server): learns the initiator's static key from the first message. */
    public static HandshakeState responder(byte[] prologue, X25519.KeyPair staticKeys, EphemeralKeySource ephemeralKeys) {
        return new HandshakeState(false, prologue, staticKeys, null, ephemeralKeys);
    }

    /** WriteMessage(payload): the next handshake message of this side, carrying {@code payload} encrypted. */
    public byte[] writeMessage(byte[] payload) {
        boolean first = messages == 0;
        requireTurn(initiator == first, "write");
        int overhead = first ? MIN_FIRST_MESSAGE_BYTES : MIN_SECOND_MESSAGE_BYTES;
        if (payload.length > MAX_MESSAGE_BYTES - overhead) {
            throw new IllegalArgumentException("payload too long for a " + MAX_MESSAGE_BYTES + "-byte Noise message");
        }
        try {
            byte[] message = first ? writeFirst(payload) : writeSecond(payload);
            messages++;
            return message;
        } catch (NoiseException peerKeyOfSmallOrder) {
            // Only a DH with the peer's key can fail here: rs (initiator) or re (responder).
            failed = true;
            throw new IllegalStateException("the peer's public key yields no shared secret", peerKeyOfSmallOrder);
        }
    }

    /** ReadMessage(message): checks and absorbs the peer's next message; returns its payload. */
    public byte[] readMessage(byte[] message) throws NoiseException {
        boolean first = messages == 0;
        requireTurn(initiator != first, "read");
        try {
            int minimum = first ? MIN_FIRST_MESSAGE_BYTES : MIN_SECOND_MESSAGE_BYTES;
            if (message.length < minimum || message.length > MAX_MESSAGE_BYTES) {
                throw new NoiseException();
            }
            byte[] payload = first ? readFirst(message) : readSecond(message);
            messages++;
            return payload;
        } catch (NoiseException rejected) {
            failed = true;
            throw rejected;
        }
    }

    /** -> e, es, s, ss (initiator). */
    private byte[] writeFirst(byte[] payload) throws NoiseException {
        byte[] ePublic = generateEphemeral();
        symmetric.mixKey(X25519.dh(e.privateKey(), rs));
        byte[] encryptedStatic = symmetric.encryptAndHash(s.publicKey());
        symmetric.mixKey(X25519.dh(s.privateKey(), rs));
        return concat(ePublic, encryptedStatic, symmetric.encryptAndHash(payload));
    }

    /** -> e, es, s, ss (responder). */
    private byte[] readFirst(byte[] message) throws NoiseException {
        re = Arrays.copyOfRange(message, 0, X25519.KEY_BYTES);
        symmetric.mixHash(re);
        symmetric.mixKey(X25519.dh(s.privateKey(), re));
        int staticEnd = X25519.KEY_BYTES + X25519.KEY_BYTES + CipherState.TAG_BYTES;
        byte[] initiatorStatic = symmetric.decryptAndHash(Arrays.copyOfRange(message, X25519.KEY_BYTES, staticEnd));
        symmetric.mixKey(X25519.dh(s.privateKey(), initiatorStatic));
        byte[] payload = symmetric.decryptAndHash(Arrays.copyOfRange(message, staticEnd, message.length));
        rs = initiatorStatic;
        return payload;
    }

    /** &lt;- e, ee, se (responder). */
    private byte[] writeSecond(byte[] payload) throws NoiseException {
        byte[] ePublic = generateEphemeral();
        symmetric.mixKey(X25519.dh(e.privateKey(), re));
        symmetric.mixKey(X25519.dh(e.privateKey(), rs));
        byte[] message = concat(ePublic, symmetric.encryptAndHash(payload));
        finish();
        return message;
    }

    /** &lt;- e, ee, se (initiator). */
    private byte[] readSecond(byte[] message) throws NoiseException {
        re = Arrays.copyOfRange(message, 0, X25519.KEY_BYTES);
        symmetric.mixHash(re);
        symmetric.mixKey(X25519.dh(e.privateKey(), re));
        symmetric.mixKey(X25519.dh(s.privateKey(), re));
        byte[] payload = symmetric.decryptAndHash(Arrays.copyOfRange(message, X25519.KEY_BYTES, message.length));
        finish();
        return payload;
    }

    private byte[] generateEphemeral() {
        e = X25519.KeyPair.fromPrivate(ephemeralKeys.nextPrivateKey());
        symmetric.mixHash(e.publicKey());
        return e.publicKey();
    }

    private void finish() {
        handshakeHash = symmetric.handshakeHash();
        CipherState[] split = symmetric.split();
        // c1 carries initiator-to-responder traffic, c2 the other way (spec section 5.3, Split()).
        transport = initiator ? new TransportKeys(split[0], split[1]) : new TransportKeys(split[1], split[0]);
        Arrays.fill(e.privateKey(), (byte) 0);
        e = null;
    }

    /** True once both messages are through; then {@link #transport()} is ready. */
    public boolean isComplete() {
        return transport != null;
    }

    /** The transport CipherStates: {@code send} for this side's messages, {@code receive} for the peer's. */
    public TransportKeys transport() {
        if (transport == null) {
            throw new IllegalStateException("the handshake is not complete");
        }
        return transport;
    }

    /**
     * The peer's static public key: for the initiator the one it was given; for the responder the one the
     * first message proved, so the caller can refuse keys it does not accept before it answers.
     */
    public byte[] remoteStaticKey() {
        if (rs == null) {
            throw new IllegalStateException("the initiator's static key arrives with the first message");
        }
        return rs.clone();
    }

    /** The handshake hash h after the last message: equal on both sides, unique to this session. */
    public byte[] handshakeHash() {
        if (handshakeHash == null) {
            throw new IllegalStateException("the handshake is not complete");
        }
        return handshakeHash.clone();
    }

    private void requireTurn(boolean myTurn, String what) {
        if (failed) {
            throw new IllegalStateException("this handshake was rejected; start a new one");
        }
        if (messages >= 2 || !myTurn) {
            throw new IllegalStateException("not this side's turn to " + what + " (message " + (messages + 1) + " of 2)");
        }
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }
}
