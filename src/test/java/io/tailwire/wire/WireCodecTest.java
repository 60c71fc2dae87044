package io.tailwire.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.zip.CRC32C;

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

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class WireCodecTest {
    private final UnsafeBuffer buf = new UnsafeBuffer(new byte[2048]);

    @Test
    void dataRoundTripKeepsEveryField() {
        UnsafeBuffer payload = new UnsafeBuffer("hello, log".getBytes());
        DataFlyweight enc = new DataFlyweight();
        enc.wrapForEncode(buf, 0, buf.capacity());
        int len = enc.encode(0x1122334455667788L, 42, 987654321L, 7, 1_000_000_000_000L, payload, 0, 10);
        assertEquals(58, len);
        DataFlyweight dec = new DataFlyweight();
        dec.wrap(buf, 0, len);
        assertEquals(Wire.OK, dec.validate(Wire.DEFAULT_MAX_DATAGRAM));
        assertEquals(0x1122334455667788L, dec.connectionId());
        assertEquals(42, dec.packetNumber());
        assertEquals(987654321L, dec.timestamp());
        assertEquals(7, dec.streamId());
        assertEquals(10, dec.payloadLength());
        assertEquals(1_000_000_000_000L, dec.streamOffset());
        byte[] out = new byte[10];
        buf.getBytes(dec.payloadIndex(), out);
        assertEquals("hello, log", new String(out));
        // Little-endian on the wire: packet number 42 is byte 16 = 42, byte 23 = 0.
        assertEquals(42, buf.getByte(16));
        assertEquals(0, buf.getByte(23));
    }

    @Test
    void dataWithWrongLengthFieldIsRejected() {
        UnsafeBuffer payload = new UnsafeBuffer(new byte[10]);
        DataFlyweight enc = new DataFlyweight();
        enc.wrapForEncode(buf, 0, buf.capacity());
        int len = enc.encode(1, 0, 0, 1, 0, payload, 0, 10);
        DataFlyweight dec = new DataFlyweight();
        assertEquals(Wire.ERR_CHECKSUM, dec.wrap(buf, 0, len - 1).validate());
        // A consistent checksum but lying length field is still rejected.
        buf.putInt(Wire.DATA_LENGTH_OFFSET, 11, ByteOrder.LITTLE_ENDIAN);
        Checksum.seal(buf, 0, len);
        assertEquals(Wire.ERR_LENGTH, dec.wrap(buf, 0, len).validate());
        buf.putInt(Wire.DATA_LENGTH_OFFSET, 0, ByteOrder.LITTLE_ENDIAN);
        Checksum.seal(buf, 0, 48);
        assertEquals(Wire.ERR_LENGTH, dec.wrap(buf, 0, 48).validate());
    }

    @Test
    void ackRoundTripWithSackAndDurableEntries() {
        AckFlyweight enc = new AckFlyweight();
        enc.wrapForEncode(buf, 0, buf.capacity());
        enc.encode(5, 1000, 123, 456, 1 << 20, 2, 3);
        enc.sackWord(0, 0x8000000000000001L);
        enc.sackWord(1, 0x10L);
        enc.durableEntry(0, 1, 100);
        enc.durableEntry(1, 2, 200);
        enc.durableEntry(2, 3, 300);
        int len = enc.seal();
        assertEquals(48 + 16 + 36, len);
        AckFlyweight dec = new AckFlyweight();
        dec.wrap(buf, 0, len);
        assertEquals(Wire.OK, dec.validate());
        assertEquals(1000, dec.cumulative());
        assertEquals(123, dec.echoTimestamp());
        assertEquals(456, dec.ackDelay());
        assertEquals(1 << 20, dec.window());
        assertEquals(2, dec.sackWords());
        assertEquals(3, dec.durableCount());
        assertTrue(dec.acknowledges(999));
        assertFalse(dec.acknowledges(1000));
        assertTrue(dec.acknowledges(1001));   // word 0 bit 0
        assertTrue(dec.acknowledges(1064));   // word 0 bit 63
        assertFalse(dec.acknowledges(1065));
        assertTrue(dec.acknowledges(1000 + 1 + 64 + 4));
        assertFalse(dec.acknowledges(1000 + 1 + 128)); // beyond the words sent
        for (int i = 0; i < 3; i++) {
            assertEquals(i + 1, dec.durableStreamId(i));
            assertEquals(100L * (i + 1), dec.durableOffset(i));
        }
    }

    @Test
    void ackCountsOutOfBoundsAreRejected() {
        AckFlyweight enc = new AckFlyweight();
        enc.wrapForEncode(buf, 0, buf.capacity());
        enc.encode(5, 0, 0, 0, 0, 17, 0);
        int len = Wire.ACK_FIXED_LENGTH + 17 * 8;
        Checksum.seal(buf, 0, len);
        assertEquals(Wire.ERR_LENGTH, new AckFlyweight().wrap(buf, 0, len).validate());
        enc.encode(5, 0, 0, 0, 0, 0, 65);
        len = Wire.ACK_FIXED_LENGTH + 65 * 12;
        Checksum.seal(buf, 0, len);
        assertEquals(Wire.ERR_LENGTH, new AckFlyweight().wrap(buf, 0, len).validate());
    }

    @Test
    void pingAndResetRoundTrip() {
        PingFlyweight p = new PingFlyweight();
        p.wrapForEncode(buf, 0, buf.capacity());
        int len = p.encode(77, 31337);
        assertEquals(24, len);
        PingFlyweight d = new PingFlyweight();
        assertEquals(Wire.OK, d.wrap(buf, 0, len).validate());
        assertEquals(77, d.connectionId());
        assertEquals(31337, d.timestamp());

        len = HeaderFlyweight.encodeReset(buf, 100, 99);
        HeaderFlyweight h = new HeaderFlyweight().wrap(buf, 100, len);
        assertEquals(Wire.OK, h.validate());
        assertEquals(Wire.TYPE_RESET, h.type());
        assertEquals(99, h.connectionId());
        assertEquals(Wire.ERR_TOO_SHORT, h.wrap(buf, 100, 15).validate());
    }

    @Test
    void checksumMatchesReferenceCrc32cOverDefinedRanges() {
        PingFlyweight p = new PingFlyweight();
        p.wrapForEncode(buf, 0, buf.capacity());
        int len = p.encode(0x0102030405060708L, 9);
        byte[] bytes = new byte[len];
        buf.getBytes(0, bytes);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, 4);
        crc.update(bytes, 8, len - 8);
        assertEquals((int) crc.getValue(), buf.getInt(4, ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void checksumWorksOverDirectAndOffsetBuffers() {
        ByteBuffer direct = ByteBuffer.allocateDirect(200);
        direct.position(7).limit(150);
        UnsafeBuffer d = new UnsafeBuffer(direct, 3, 100);
        PingFlyweight p = new PingFlyweight();
        p.wrapForEncode(d, 5, 50);
        int len = p.encode(3, 4);
        assertTrue(Checksum.verify(d, 5, len));
        assertEquals(7, direct.position());
        assertEquals(150, direct.limit());
        byte[] copy = new byte[len];
        d.getBytes(5, copy);
        assertTrue(Checksum.verify(new UnsafeBuffer(copy), 0, len));
        UnsafeBuffer heapSlice = new UnsafeBuffer(new byte[64], 10, 40);
        heapSlice.putBytes(2, copy);
        assertTrue(Checksum.verify(heapSlice, 2, len));
    }

    @Test
    void authFlagAndUnknownVersionOrTypeAreRejected() {
        PingFlyweight p = new PingFlyweight();
        p.wrapForEncode(buf, 0, buf.capacity());
        int len = p.encode(1, 1);
        buf.putShort(2, (short) 1, ByteOrder.LITTLE_ENDIAN);
        Checksum.seal(buf, 0, len);
        assertEquals(Wire.ERR_FLAGS, new HeaderFlyweight().wrap(buf, 0, len).validate());
        buf.putShort(2, (short) 2, ByteOrder.LITTLE_ENDIAN); // other flag bits are ignored
        Checksum.seal(buf, 0, len);
        assertEquals(Wire.OK, new HeaderFlyweight().wrap(buf, 0, len).validate());
        buf.putByte(0, (byte) 2);
        Checksum.seal(buf, 0, len);
        assertEquals(Wire.ERR_VERSION, new HeaderFlyweight().wrap(buf, 0, len).validate());
        buf.putByte(0, (byte) 1);
        buf.putByte(1, (byte) 0x0A);
        Checksum.seal(buf, 0, len);
        assertEquals(Wire.ERR_TYPE, new HeaderFlyweight().wrap(buf, 0, len).validate());
    }

    static List<MessageLite> controlSamples() {
        FileIdentity id = FileIdentity.newBuilder().setDevice(2049).setInode(131074).setFingerprintLength(1024)
            .setFingerprint(0xcbf29ce484222325L).build();
        return List.of(
            Hello.newBuilder().setAgentId("web-01").setClientNonce(0x0123456789abcdefL)
                .setMaxDatagramSize(1472).build(),
            Retry.newBuilder().setClientNonce(0x0123456789abcdefL).setToken(ByteString.copyFrom(new byte[24])).build(),
            Welcome.newBuilder().setClientNonce(1).setConnectionId(2).setServerInstance(3).setMaxDatagramSize(1472)
                .setInitialWindow(262144).setIdleTimeoutMs(30000).setKeepaliveMs(5000).build(),
            StreamOpen.newBuilder().setStreamId(1).setPath("/var/log/app.log").setGeneration(3).setIdentity(id)
                .setPreviousGenerationLength(4096).build(),
            StreamReply.newBuilder().setStreamId(1).setStatus(StreamStatus.OK).setResumeOffset(500).setGeneration(3)
                .build(),
            StreamClose.newBuilder().setStreamId(1).setFinalLength(9000).build(),
            StreamClosed.newBuilder().setStreamId(1).setDurableLength(9000).build(),
            Close.newBuilder().setCode(CloseCode.BUSY).setReason("full").setRetryAfterMs(1000).build(),
            LossReport.newBuilder().setStreamId(1).setFromOffset(10).setToOffset(20).setReason("truncated").build());
    }

    @Test
    void everyControlTypeRoundTrips() {
        for (MessageLite m : controlSamples()) {
            int type = ControlCodec.typeOf(m);
            int len = ControlCodec.encode(buf, 0, Wire.DEFAULT_MAX_DATAGRAM, 42, m);
            assertTrue(len > 16, () -> "type " + type);
            ControlCodec.Decoded d = ControlCodec.decode(buf, 0, len, Wire.DEFAULT_MAX_DATAGRAM);
            assertNotNull(d, () -> "type " + type);
            assertEquals(type, d.type());
            assertEquals(42, d.connectionId());
            if (m instanceof Hello) {
                assertEquals(Wire.MIN_HELLO_LENGTH, len);
                assertEquals(((Hello) m).getAgentId(), ((Hello) d.body()).getAgentId());
                assertEquals(((Hello) m).getClientNonce(), ((Hello) d.body()).getClientNonce());
            } else {
                assertEquals(m, d.body());
            }
        }
    }

    @Test
    void helloPaddingReachesMinimumForManyBodySizes() {
        for (int n = 1; n <= 64; n++) {
            Hello h = Hello.newBuilder().setAgentId("a".repeat(n)).setClientNonce(n * 7919L)
                .setToken(ByteString.copyFrom(new byte[n * 3])).build();
            int len = ControlCodec.encode(buf, 0, 2048, 0, h);
            assertTrue(len >= Wire.MIN_HELLO_LENGTH && len <= Wire.MIN_HELLO_LENGTH + 1, "len " + len);
        }
    }

    @Test
    void shortHelloAndGarbageBodyAreRejected() {
        Hello h = Hello.newBuilder().setAgentId("x").build();
        byte[] body = h.toByteArray();
        HeaderFlyweight.writeHeader(buf, 0, Wire.TYPE_HELLO, 0);
        buf.putBytes(16, body);
        Checksum.seal(buf, 0, 16 + body.length);
        assertNull(ControlCodec.decode(buf, 0, 16 + body.length, 2048));
        // Invalid protobuf (truncated varint) with a correct checksum.
        HeaderFlyweight.writeHeader(buf, 0, Wire.TYPE_STREAM_OPEN, 0);
        buf.putByte(16, (byte) 0x08);
        buf.putByte(17, (byte) 0xFF);
        Checksum.seal(buf, 0, 18);
        assertNull(ControlCodec.decode(buf, 0, 18, 2048));
    }

    @Test
    void encodeRefusesWhatDoesNotFit() {
        StreamOpen big = StreamOpen.newBuilder().setStreamId(1).setPath("/" + "p".repeat(2000)).build();
        assertEquals(Wire.ERR_TOO_LONG, ControlCodec.encode(buf, 0, Wire.DEFAULT_MAX_DATAGRAM, 1, big));
    }
}
