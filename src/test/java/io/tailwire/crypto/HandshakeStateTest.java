package io.tailwire.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** The IK handshake between two HandshakeStates of ours, and what it must refuse. Keys are fixed. */
class HandshakeStateTest {
    private static final byte[] PROLOGUE = bytes("tailwire test prologue");
    private static final X25519.KeyPair AGENT = key("agent static");
    private static final X25519.KeyPair SERVER = key("server static");
    private static final X25519.KeyPair IMPOSTER = key("imposter static");

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static X25519.KeyPair key(String label) {
        return X25519.KeyPair.fromPrivate(SymmetricState.hash(bytes(label)));
    }

    /** The same ephemeral key every call: a handshake replays byte for byte. */
    private static EphemeralKeySource fixed(String label) {
        return () -> SymmetricState.hash(bytes(label));
    }

    private static HandshakeState agent(byte[] pinnedServerKey) {
        return HandshakeState.initiator(PROLOGUE, AGENT, pinnedServerKey, fixed("agent ephemeral"));
    }

    private static HandshakeState server(X25519.KeyPair staticKeys) {
        return HandshakeState.responder(PROLOGUE, staticKeys, fixed("server ephemeral"));
    }

    private static byte[] flip(byte[] message, int bit) {
        byte[] copy = message.clone();
        copy[bit / 8] ^= (byte) (1 << (bit % 8));
        return copy;
    }

    @Test
    void oneRoundTripAuthenticatesBothSidesAndYieldsMatchingTransportStates() throws NoiseException {
        HandshakeState agent = agent(SERVER.publicKey());
        HandshakeState server = server(SERVER);
        byte[] first = agent.writeMessage(bytes("hello"));
        assertEquals(HandshakeState.MIN_FIRST_MESSAGE_BYTES + 5, first.length);
        assertArrayEquals(bytes("hello"), server.readMessage(first));
        assertArrayEquals(AGENT.publicKey(), server.remoteStaticKey(), "the server learns which agent this is");
        assertFalse(server.isComplete());

        byte[] second = server.writeMessage(bytes("welcome"));
        assertEquals(HandshakeState.MIN_SECOND_MESSAGE_BYTES + 7, second.length);
        assertTrue(server.isComplete());
        assertArrayEquals(bytes("welcome"), agent.readMessage(second));
        assertTrue(agent.isComplete());
        assertArrayEquals(agent.handshakeHash(), server.handshakeHash());

        HandshakeState.TransportKeys a = agent.transport();
        HandshakeState.TransportKeys s = server.transport();
        for (long n = 0; n < 3; n++) {
            assertEquals(n, a.send().nonce(), "the agent's nonces run 0, 1, 2");
            byte[] sealed = a.send().encryptWithAd(new byte[0], bytes("data " + n));
            assertArrayEquals(bytes("data " + n), s.receive().decryptWithAd(new byte[0], sealed));
            assertThrows(NoiseException.class, () -> s.receive().decryptWithAd(new byte[0], sealed), "replay " + n);
        }
        byte[] ack = s.send().encryptWithAd(new byte[0], bytes("ack"));
        assertArrayEquals(bytes("ack"), a.receive().decryptWithAd(new byte[0], ack));
        assertThrows(NoiseException.class, () -> s.receive().decryptWithAd(new byte[0], ack),
            "a message sent one way does not open the other way");
    }

    @Test
    void theInitiatorsIdentityTravelsEncrypted() {
        byte[] first = agent(SERVER.publicKey()).writeMessage(new byte[0]);
        byte[] key = AGENT.publicKey();
        for (int at = 0; at + key.length <= first.length; at++) {
            assertFalse(Arrays.equals(key, Arrays.copyOfRange(first, at, at + key.length)), "agent key in clear at " + at);
        }
    }

    @Test
    void everySingleBitFlipInTheFirstMessageIsRejectedAndEndsTheHandshake() {
        byte[] first = agent(SERVER.publicKey()).writeMessage(bytes("payload"));
        for (int bit = 0; bit < first.length * 8; bit++) {
            HandshakeState server = server(SERVER);
            byte[] tampered = flip(first, bit);
            assertThrows(NoiseException.class, () -> server.readMessage(tampered), "bit " + bit);
            assertThrows(IllegalStateException.class, () -> server.writeMessage(new byte[0]), "bit " + bit);
            assertThrows(IllegalStateException.class, server::remoteStaticKey, "no unproven key leaks out");
        }
    }

    @Test
    void everySingleBitFlipInTheSecondMessageIsRejected() throws NoiseException {
        HandshakeState server = server(SERVER);
        server.readMessage(agent(SERVER.publicKey()).writeMessage(new byte[0]));
        byte[] second = server.writeMessage(bytes("payload"));
        for (int bit = 0; bit < second.length * 8; bit++) {
            HandshakeState agent = agent(SERVER.publicKey());
            agent.writeMessage(new byte[0]);
            byte[] tampered = flip(second, bit);
            assertThrows(NoiseException.class, () -> agent.readMessage(tampered), "bit " + bit);
            assertFalse(agent.isComplete());
            assertThrows(IllegalStateException.class, agent::transport);
        }
    }

    @Test
    void truncatedOrExtendedMessagesAreRejected() {
        byte[] first = agent(SERVER.publicKey()).writeMessage(bytes("payload"));
        for (int length = 0; length < first.length; length++) {
            byte[] cut = Arrays.copyOf(first, length);
            assertThrows(NoiseException.class, () -> server(SERVER).readMessage(cut), "length " + length);
        }
        assertThrows(NoiseException.class, () -> server(SERVER).readMessage(Arrays.copyOf(first, first.length + 1)));
        assertThrows(NoiseException.class,
            () -> server(SERVER).readMessage(new byte[HandshakeState.MAX_MESSAGE_BYTES + 1]));
    }

    @Test
    void anAgentPinnedToAnotherKeyIsRejectedByTheRealServer() {
        byte[] first = agent(IMPOSTER.publicKey()).writeMessage(bytes("hello"));
        assertThrows(NoiseException.class, () -> server(SERVER).readMessage(first));
    }

    @Test
    void aServerWithoutThePinnedKeyCannotReadTheFirstMessage() {
        byte[] first = agent(SERVER.publicKey()).writeMessage(bytes("hello"));
        assertThrows(NoiseException.class, () -> server(IMPOSTER).readMessage(first));
    }

    @Test
    void aDifferentPrologueIsRejected() {
        byte[] first = agent(SERVER.publicKey()).writeMessage(new byte[0]);
        HandshakeState other = HandshakeState.responder(bytes("another prologue"), SERVER, fixed("server ephemeral"));
        assertThrows(NoiseException.class, () -> other.readMessage(first));
    }

    @Test
    void injectedEphemeralKeysMakeTheHandshakeReplayByteForByte() {
        assertArrayEquals(agent(SERVER.publicKey()).writeMessage(bytes("x")), agent(SERVER.publicKey()).writeMessage(bytes("x")));
        HandshakeState other = HandshakeState.initiator(PROLOGUE, AGENT, SERVER.publicKey(), fixed("another ephemeral"));
        assertFalse(Arrays.equals(agent(SERVER.publicKey()).writeMessage(bytes("x")), other.writeMessage(bytes("x"))));
    }

    @Test
    void callsOutOfTurnAreProgrammingErrors() throws NoiseException {
        HandshakeState agent = agent(SERVER.publicKey());
        HandshakeState server = server(SERVER);
        assertThrows(IllegalStateException.class, () -> agent.readMessage(new byte[100]));
        assertThrows(IllegalStateException.class, () -> server.writeMessage(new byte[0]));
        byte[] first = agent.writeMessage(new byte[0]);
        assertThrows(IllegalStateException.class, () -> agent.writeMessage(new byte[0]));
        server.readMessage(first);
        agent.readMessage(server.writeMessage(new byte[0]));
        assertThrows(IllegalStateException.class, () -> agent.readMessage(new byte[100]));
        assertThrows(IllegalStateException.class, () -> server.writeMessage(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> agent(SERVER.publicKey())
            .writeMessage(new byte[HandshakeState.MAX_MESSAGE_BYTES - HandshakeState.MIN_FIRST_MESSAGE_BYTES + 1]));
    }
}
