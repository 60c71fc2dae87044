package io.tailwire.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;

import io.tailwire.proto.Close;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.Hello;
import io.tailwire.proto.LossReport;
import io.tailwire.proto.Retry;
import io.tailwire.proto.StreamClose;
import io.tailwire.proto.StreamClosed;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;
import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.Welcome;

import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The hex dumps in wire-spec.md section 11 are decoded here and every field is compared with the values
 * the spec text states for that example. Run with -Dtailwire.printExamples=true to print fresh dumps.
 */
class WireSpecExamplesTest {
    static final long CONN = 0x1122334455667788L;
    static final long NONCE = 0x0123456789abcdefL;

    record Example(ToIntFunction<MutableDirectBuffer> encode, Consumer<UnsafeBuffer> check) {
    }

    static byte[] tokenBytes() {
        byte[] t = new byte[24];
        for (int i = 0; i < t.length; i++) {
            t[i] = (byte) i;
        }
        return t;
    }

    /** The first 1024 bytes of the example's file, as the spec text states them: 1024 times 'a'. */
    static byte[] fileStart() {
        byte[] b = new byte[1024];
        java.util.Arrays.fill(b, (byte) 'a');
        return b;
    }

    static final FileIdentity IDENTITY = FileIdentity.newBuilder().setDevice(2049).setInode(131074)
        .setFingerprintLength(1024).setFingerprint(Fingerprint.of(fileStart(), 0, 1024)).build();

    static int control(MutableDirectBuffer b, long conn, MessageLite m) {
        return ControlCodec.encode(b, 0, 2048, conn, m);
    }

    static MessageLite body(UnsafeBuffer b, int type, long conn) {
        ControlCodec.Decoded d = ControlCodec.decode(b, 0, b.capacity(), Wire.MAX_MAX_DATAGRAM);
        assertNotNull(d, "control datagram must decode");
        assertEquals(type, d.type());
        assertEquals(conn, d.connectionId());
        return d.body();
    }

    static Map<String, Example> examples() {
        Map<String, Example> m = new LinkedHashMap<>();
        m.put("HELLO", new Example(
            b -> control(b, 0, Hello.newBuilder().setAgentId("web-01").setClientNonce(NONCE).setMaxDatagramSize(1472)
                .build()),
            b -> {
                assertEquals(1200, b.capacity());
                Hello h = (Hello) body(b, Wire.TYPE_HELLO, 0);
                assertEquals("web-01", h.getAgentId());
                assertEquals(NONCE, h.getClientNonce());
                assertEquals(1472, h.getMaxDatagramSize());
                assertTrue(h.getToken().isEmpty());
            }));
        m.put("RETRY", new Example(
            b -> control(b, 0, Retry.newBuilder().setClientNonce(NONCE).setToken(ByteString.copyFrom(tokenBytes()))
                .build()),
            b -> {
                Retry r = (Retry) body(b, Wire.TYPE_RETRY, 0);
                assertEquals(NONCE, r.getClientNonce());
                assertEquals(ByteString.copyFrom(tokenBytes()), r.getToken());
            }));
        m.put("WELCOME", new Example(
            b -> control(b, CONN, Welcome.newBuilder().setClientNonce(NONCE).setConnectionId(CONN)
                .setServerInstance(0x0a0b0c0d0e0f1011L).setMaxDatagramSize(1472).setInitialWindow(262144)
                .setIdleTimeoutMs(30000).setKeepaliveMs(5000).build()),
            b -> {
                Welcome w = (Welcome) body(b, Wire.TYPE_WELCOME, CONN);
                assertEquals(NONCE, w.getClientNonce());
                assertEquals(CONN, w.getConnectionId());
                assertEquals(0x0a0b0c0d0e0f1011L, w.getServerInstance());
                assertEquals(1472, w.getMaxDatagramSize());
                assertEquals(262144, w.getInitialWindow());
                assertEquals(30000, w.getIdleTimeoutMs());
                assertEquals(5000, w.getKeepaliveMs());
            }));
        m.put("STREAM_OPEN", new Example(
            b -> control(b, CONN, StreamOpen.newBuilder().setStreamId(1).setPath("/var/log/app.log").setGeneration(3)
                .setIdentity(IDENTITY).setPreviousGenerationLength(4096).build()),
            b -> {
                StreamOpen o = (StreamOpen) body(b, Wire.TYPE_STREAM_OPEN, CONN);
                assertEquals(1, o.getStreamId());
                assertEquals("/var/log/app.log", o.getPath());
                assertEquals(3, o.getGeneration());
                assertEquals(IDENTITY, o.getIdentity());
                // The fingerprint is that of the bytes its length covers (it once was the hash of no bytes at all).
                assertEquals(Fingerprint.of(fileStart(), 0, o.getIdentity().getFingerprintLength()),
                    o.getIdentity().getFingerprint());
                assertEquals(4096, o.getPreviousGenerationLength());
            }));
        m.put("STREAM_REPLY", new Example(
            b -> control(b, CONN, StreamReply.newBuilder().setStreamId(1).setStatus(StreamStatus.OK).setResumeOffset(500)
                .setGeneration(3).build()),
            b -> {
                StreamReply r = (StreamReply) body(b, Wire.TYPE_STREAM_REPLY, CONN);
                assertEquals(1, r.getStreamId());
                assertEquals(StreamStatus.OK, r.getStatus());
                assertEquals(500, r.getResumeOffset());
                assertEquals(3, r.getGeneration());
            }));
        m.put("STREAM_CLOSE", new Example(
            b -> control(b, CONN, StreamClose.newBuilder().setStreamId(1).setFinalLength(9000).build()),
            b -> {
                StreamClose c = (StreamClose) body(b, Wire.TYPE_STREAM_CLOSE, CONN);
                assertEquals(1, c.getStreamId());
                assertEquals(9000, c.getFinalLength());
            }));
        m.put("STREAM_CLOSED", new Example(
            b -> control(b, CONN, StreamClosed.newBuilder().setStreamId(1).setDurableLength(9000).build()),
            b -> {
                StreamClosed c = (StreamClosed) body(b, Wire.TYPE_STREAM_CLOSED, CONN);
                assertEquals(1, c.getStreamId());
                assertEquals(9000, c.getDurableLength());
            }));
        m.put("CLOSE", new Example(
            b -> control(b, 0, Close.newBuilder().setCode(CloseCode.BUSY).setReason("connection limit")
                .setRetryAfterMs(1000).build()),
            b -> {
                Close c = (Close) body(b, Wire.TYPE_CLOSE, 0);
                assertEquals(CloseCode.BUSY, c.getCode());
                assertEquals("connection limit", c.getReason());
                assertEquals(1000, c.getRetryAfterMs());
            }));
        m.put("LOSS_REPORT", new Example(
            b -> control(b, CONN, LossReport.newBuilder().setStreamId(1).setFromOffset(10).setToOffset(20)
                .setReason("truncated before shipped").build()),
            b -> {
                LossReport l = (LossReport) body(b, Wire.TYPE_LOSS_REPORT, CONN);
                assertEquals(1, l.getStreamId());
                assertEquals(10, l.getFromOffset());
                assertEquals(20, l.getToOffset());
                assertEquals("truncated before shipped", l.getReason());
            }));
        m.put("DATA", new Example(
            b -> {
                DataFlyweight d = new DataFlyweight();
                d.wrapForEncode(b, 0, b.capacity());
                byte[] p = "hello\n".getBytes(StandardCharsets.US_ASCII);
                return d.encode(CONN, 42, 1_000_000_000L, 1, 4096, new UnsafeBuffer(p), 0, p.length);
            },
            b -> {
                DataFlyweight d = new DataFlyweight();
                assertEquals(Wire.OK, d.wrap(b, 0, b.capacity()).validate());
                assertEquals(CONN, d.connectionId());
                assertEquals(42, d.packetNumber());
                assertEquals(1_000_000_000L, d.timestamp());
                assertEquals(1, d.streamId());
                assertEquals(4096, d.streamOffset());
                assertEquals(6, d.payloadLength());
                byte[] p = new byte[6];
                b.getBytes(d.payloadIndex(), p);
                assertEquals("hello\n", new String(p, StandardCharsets.US_ASCII));
            }));
        m.put("ACK", new Example(
            b -> {
                AckFlyweight a = new AckFlyweight();
                a.wrapForEncode(b, 0, b.capacity());
                a.encode(CONN, 40, 1_000_000_000L, 250_000, 1 << 20, 1, 1);
                a.sackWord(0, 0b101);
                a.durableEntry(0, 1, 4096);
                return a.seal();
            },
            b -> {
                AckFlyweight a = new AckFlyweight();
                assertEquals(Wire.OK, a.wrap(b, 0, b.capacity()).validate());
                assertEquals(CONN, a.connectionId());
                assertEquals(40, a.cumulative());
                assertEquals(1_000_000_000L, a.echoTimestamp());
                assertEquals(250_000, a.ackDelay());
                assertEquals(1 << 20, a.window());
                assertEquals(1, a.sackWords());
                assertTrue(a.acknowledges(41) && !a.acknowledges(42) && a.acknowledges(43) && !a.acknowledges(40));
                assertEquals(1, a.durableCount());
                assertEquals(1, a.durableStreamId(0));
                assertEquals(4096, a.durableOffset(0));
            }));
        m.put("PING", new Example(
            b -> {
                PingFlyweight p = new PingFlyweight();
                p.wrapForEncode(b, 0, b.capacity());
                return p.encode(CONN, 5_000_000_000L);
            },
            b -> {
                PingFlyweight p = new PingFlyweight();
                assertEquals(Wire.OK, p.wrap(b, 0, b.capacity()).validate());
                assertEquals(CONN, p.connectionId());
                assertEquals(5_000_000_000L, p.timestamp());
            }));
        m.put("RESET", new Example(
            b -> HeaderFlyweight.encodeReset(b, 0, CONN),
            b -> {
                HeaderFlyweight h = new HeaderFlyweight();
                assertEquals(Wire.OK, h.wrap(b, 0, b.capacity()).validate());
                assertEquals(Wire.TYPE_RESET, h.type());
                assertEquals(CONN, h.connectionId());
            }));
        return m;
    }

    static Path spec() {
        Path p = Path.of("wire-spec.md");
        return Files.exists(p) ? p : Path.of(System.getProperty("user.dir"), "wire-spec.md");
    }

    @Test
    void everyHexDumpInTheSpecDecodesToTheFieldsItDescribes() throws IOException {
        if (Boolean.getBoolean("tailwire.printExamples")) {
            UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
            for (Map.Entry<String, Example> e : examples().entrySet()) {
                int len = e.getValue().encode.applyAsInt(b);
                System.out.println("<!-- hexdump:" + e.getKey() + " -->\n```\n" + HexDump.format(b, 0, len) + "```\n");
            }
        }
        String text = Files.readString(spec());
        Pattern block = Pattern.compile("<!-- hexdump:([A-Z_]+) -->\\s*```\\n(.*?)```", Pattern.DOTALL);
        Matcher mt = block.matcher(text);
        Map<String, Example> ex = examples();
        int found = 0;
        while (mt.find()) {
            String name = mt.group(1);
            Example e = ex.get(name);
            assertNotNull(e, "unknown example " + name);
            UnsafeBuffer parsed = new UnsafeBuffer(new byte[4096]);
            int len = HexDump.parse(mt.group(2), parsed, 0);
            assertTrue(len >= Wire.HEADER_LENGTH, name + ": dump did not parse");
            byte[] exact = new byte[len];
            parsed.getBytes(0, exact);
            e.check.accept(new UnsafeBuffer(exact));
            // The codec still produces these exact bytes for these values.
            UnsafeBuffer fresh = new UnsafeBuffer(new byte[2048]);
            int n = e.encode.applyAsInt(fresh);
            byte[] again = new byte[n];
            fresh.getBytes(0, again);
            org.junit.jupiter.api.Assertions.assertArrayEquals(again, exact, name);
            found++;
        }
        assertEquals(ex.size(), found, "one dump per packet type");
    }
}
