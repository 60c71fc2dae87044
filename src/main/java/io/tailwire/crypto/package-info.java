/**
 * The Noise Protocol Framework (revision 34) for exactly one protocol, {@code Noise_IK_25519_AESGCM_SHA256}:
 * the handshake and transport ciphers of issue 14's secure transport, built from JDK 17 primitives only
 * (X25519 through {@code XDH}, {@code AES/GCM/NoPadding}, SHA-256 and HMAC-SHA256) composed as the spec
 * says, with no cryptography of our own.
 *
 * <p>Why IK, the pattern WireGuard uses: the agent (initiator) pins the server's static public key, so
 * <ul>
 *   <li>one round trip ({@code -> e, es, s, ss} then {@code <- e, ee, se}) authenticates both sides and
 *       leaves both with transport keys;</li>
 *   <li>the agent's identity (its static key, and the payload that will carry its id) travels encrypted
 *       to the server's key, so an observer cannot tell which agent is connecting;</li>
 *   <li>the transport keys come from ephemeral-ephemeral DH as well, so recording traffic and stealing a
 *       static key later does not decrypt it (forward secrecy); the first message's payload has weaker
 *       forward secrecy and is replayable (spec section 7.7), so the wire step must not let it change
 *       state before the second message.</li>
 * </ul>
 *
 * <p>What is here: {@link io.tailwire.crypto.X25519} (raw little-endian keys to and from the JDK's
 * {@code XEC} key specs), {@link io.tailwire.crypto.CipherState} (AES-256-GCM, nonce = 4 zero bytes and
 * the 64-bit counter big-endian, 2^64-1 reserved, rekey, in-place seal/open over a byte range for the
 * data path), {@link io.tailwire.crypto.SymmetricState} (HKDF, hashing) and
 * {@link io.tailwire.crypto.HandshakeState} (IK with prologue and payloads, returning the two transport
 * CipherStates). Sans-IO: bytes in, bytes out; the only randomness is the ephemeral keys, drawn from an
 * {@link io.tailwire.crypto.EphemeralKeySource} so tests replay handshakes exactly. A rejected message
 * always raises the same {@link io.tailwire.crypto.NoiseException} (or returns -1 in place), never
 * saying which check failed.
 *
 * <p>Verified against every published vector for this protocol name (cacophony and snow, in the test
 * resources). Not yet used by anything: the wire format (v2), the replay window, explicit per-datagram
 * nonces, rekey scheduling and key files are later steps of issue 14. Layer 0: uses nothing of ours.
 */
package io.tailwire.crypto;
