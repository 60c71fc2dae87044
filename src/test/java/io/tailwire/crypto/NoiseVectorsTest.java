package io.tailwire.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every published {@code Noise_IK_25519_AESGCM_SHA256} vector (cacophony and snow, copied into
 * {@code noise-ik-25519-aesgcm-sha256-vectors.json} with their source): both handshake messages and every
 * transport message, written by one side and read by the other, compared byte for byte.
 */
class NoiseVectorsTest {
    private static final String RESOURCE = "noise-ik-25519-aesgcm-sha256-vectors.json";
    /** One from each source; a parser or file that yields fewer must not pass by running nothing. */
    private static final int PUBLISHED_VECTORS = 2;

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> vectors() throws IOException {
        try (InputStream in = NoiseVectorsTest.class.getResourceAsStream(RESOURCE)) {
            assertNotNull(in, RESOURCE + " not on the test class path");
            Map<String, Object> root = (Map<String, Object>) new Json(new String(in.readAllBytes(), StandardCharsets.UTF_8)).parse();
            return (List<Map<String, Object>>) root.get("vectors");
        }
    }

    @Test
    void theFileHoldsTheVectorsOfBothSourcesAndNoOtherProtocol() throws IOException {
        List<Map<String, Object>> vectors = vectors();
        assertEquals(PUBLISHED_VECTORS, vectors.size());
        for (Map<String, Object> v : vectors) {
            assertEquals(HandshakeState.PROTOCOL_NAME, v.getOrDefault("name", v.get("protocol_name")));
            assertTrue(((List<?>) v.getOrDefault("init_psks", List.of())).isEmpty(), "IK without PSK");
        }
    }

    @TestFactory
    List<DynamicTest> everyHandshakeAndTransportMessageMatchesByteForByte() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> v : vectors()) {
            tests.add(DynamicTest.dynamicTest((String) v.get("source"), () -> run(v)));
        }
        return tests;
    }

    @SuppressWarnings("unchecked")
    private static void run(Map<String, Object> v) throws NoiseException {
        X25519.KeyPair initiatorStatic = X25519.KeyPair.fromPrivate(hex(v, "init_static"));
        X25519.KeyPair responderStatic = X25519.KeyPair.fromPrivate(hex(v, "resp_static"));
        assertArrayEquals(hex(v, "init_remote_static"), responderStatic.publicKey(),
            "the responder's public key derived from its private key, through the JDK conversion");

        HandshakeState initiator = HandshakeState.initiator(hex(v, "init_prologue"), initiatorStatic,
            hex(v, "init_remote_static"), once(hex(v, "init_ephemeral")));
        HandshakeState responder = HandshakeState.responder(hex(v, "resp_prologue"), responderStatic,
            once(hex(v, "resp_ephemeral")));

        List<Map<String, Object>> messages = (List<Map<String, Object>>) v.get("messages");
        assertTrue(messages.size() > 2, "the vector carries transport messages");
        byte[] payload0 = hex(messages.get(0), "payload");
        byte[] message0 = hex(messages.get(0), "ciphertext");
        assertArrayEquals(message0, initiator.writeMessage(payload0), "handshake message 1 written");
        assertArrayEquals(payload0, responder.readMessage(message0), "handshake message 1 read");
        assertArrayEquals(initiatorStatic.publicKey(), responder.remoteStaticKey());

        byte[] payload1 = hex(messages.get(1), "payload");
        byte[] message1 = hex(messages.get(1), "ciphertext");
        assertArrayEquals(message1, responder.writeMessage(payload1), "handshake message 2 written");
        assertArrayEquals(payload1, initiator.readMessage(message1), "handshake message 2 read");
        assertArrayEquals(initiator.handshakeHash(), responder.handshakeHash());

        HandshakeState.TransportKeys i = initiator.transport();
        HandshakeState.TransportKeys r = responder.transport();
        for (int m = 2; m < messages.size(); m++) {
            byte[] payload = hex(messages.get(m), "payload");
            byte[] ciphertext = hex(messages.get(m), "ciphertext");
            boolean fromInitiator = m % 2 == 0;
            CipherState send = fromInitiator ? i.send() : r.send();
            CipherState receive = fromInitiator ? r.receive() : i.receive();
            assertArrayEquals(ciphertext, send.encryptWithAd(new byte[0], payload), "transport message " + (m + 1) + " written");
            assertArrayEquals(payload, receive.decryptWithAd(new byte[0], ciphertext), "transport message " + (m + 1) + " read");
        }
    }

    private static byte[] hex(Map<String, Object> object, String field) {
        Object value = object.get(field);
        assertNotNull(value, "vector field " + field);
        return Hex.decode((String) value);
    }

    /** The vector's ephemeral key, once: a second request would mean the handshake drew two. */
    private static EphemeralKeySource once(byte[] key) {
        AtomicInteger calls = new AtomicInteger();
        return () -> {
            assertEquals(1, calls.incrementAndGet(), "one ephemeral key per side");
            return key.clone();
        };
    }

    /** Just enough JSON for the vector file: objects, arrays, strings, true/false/null. */
    static final class Json {
        private final String text;
        private int at;

        Json(String text) {
            this.text = text;
        }

        Object parse() {
            Object value = value();
            skipSpace();
            if (at != text.length()) {
                throw error("trailing text");
            }
            return value;
        }

        private Object value() {
            skipSpace();
            if (at >= text.length()) {
                throw error("unexpected end");
            }
            char c = text.charAt(at);
            if (c == '{') {
                return object();
            } else if (c == '[') {
                return array();
            } else if (c == '"') {
                return string();
            }
            for (String literal : new String[] {"true", "false", "null"}) {
                if (text.startsWith(literal, at)) {
                    at += literal.length();
                    return literal.equals("null") ? null : Boolean.valueOf(literal);
                }
            }
            throw error("unexpected '" + c + "'");
        }

        private Map<String, Object> object() {
            Map<String, Object> out = new LinkedHashMap<>();
            expect('{');
            skipSpace();
            if (peek('}')) {
                return out;
            }
            do {
                skipSpace();
                String key = string();
                skipSpace();
                expect(':');
                out.put(key, value());
                skipSpace();
            } while (peek(','));
            expect('}');
            return out;
        }

        private List<Object> array() {
            List<Object> out = new ArrayList<>();
            expect('[');
            skipSpace();
            if (peek(']')) {
                return out;
            }
            do {
                out.add(value());
                skipSpace();
            } while (peek(','));
            expect(']');
            return out;
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (at < text.length() && text.charAt(at) != '"') {
                char c = text.charAt(at++);
                if (c == '\\') {
                    c = text.charAt(at++);
                }
                out.append(c);
            }
            expect('"');
            return out.toString();
        }

        private boolean peek(char c) {
            if (at < text.length() && text.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
        }

        private void skipSpace() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at offset " + at + " of " + RESOURCE);
        }
    }
}
