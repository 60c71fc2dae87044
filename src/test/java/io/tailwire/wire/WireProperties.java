package io.tailwire.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.UnsafeBuffer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class WireProperties {

    /** Validates as every receiver does, then reads every field the type defines. */
    private static int decodeFully(UnsafeBuffer b, int len) {
        HeaderFlyweight h = new HeaderFlyweight().wrap(b, 0, len);
        int rc = h.validate(Wire.MAX_MAX_DATAGRAM);
        if (rc != Wire.OK) {
            return rc;
        }
        switch (h.type()) {
            case Wire.TYPE_DATA: {
                DataFlyweight d = new DataFlyweight();
                d.wrap(b, 0, len);
                assertTrue(d.payloadIndex() + d.payloadLength() <= len);
                assertTrue(d.streamOffset() >= 0 && d.packetNumber() >= 0);
                break;
            }
            case Wire.TYPE_ACK: {
                AckFlyweight a = new AckFlyweight();
                a.wrap(b, 0, len);
                assertTrue(a.sackWords() <= Wire.MAX_SACK_WORDS && a.durableCount() <= Wire.MAX_DURABLE_ENTRIES);
                for (int w = 0; w < a.sackWords(); w++) {
                    a.sackWord(w);
                }
                for (int i = 0; i < a.durableCount(); i++) {
                    a.durableStreamId(i);
                    a.durableOffset(i);
                }
                break;
            }
            case Wire.TYPE_PING:
                assertEquals(Wire.PING_LENGTH, len);
                break;
            default:
                ControlCodec.decodeBody(h.type(), b, 0, len);
        }
        return rc;
    }

    @Property(tries = 2000)
    void randomBytesNeverThrowAndAreRejectedOrDecodeWithinBounds(@ForAll @Size(max = 1600) byte[] bytes) {
        // The buffer is exactly the datagram, so any read past the end would throw.
        UnsafeBuffer b = new UnsafeBuffer(bytes);
        decodeFully(b, bytes.length);
    }

    @Property(tries = 1000)
    void randomBytesWithValidChecksumNeverThrow(@ForAll @Size(min = 16, max = 1600) byte[] bytes,
                                               @ForAll @IntRange(min = 0, max = 0x13) int type) {
        // A sealed checksum gets garbage past the CRC gate so the layout checks are exercised too.
        UnsafeBuffer b = new UnsafeBuffer(bytes);
        b.putByte(0, (byte) 1);
        b.putByte(1, (byte) type);
        Checksum.seal(b, 0, bytes.length);
        decodeFully(b, bytes.length);
    }

    @Provide
    Arbitrary<byte[]> validDatagrams() {
        Arbitrary<byte[]> data = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(300).map(p -> {
            UnsafeBuffer b = new UnsafeBuffer(new byte[48 + p.length]);
            DataFlyweight d = new DataFlyweight();
            d.wrapForEncode(b, 0, b.capacity());
            d.encode(123456789L, p.length * 31L, 99, 3, 4096, new UnsafeBuffer(p), 0, p.length);
            return b.byteArray();
        });
        Arbitrary<byte[]> ack = Arbitraries.integers().between(0, 16).flatMap(w -> Arbitraries.integers()
            .between(0, 64).map(dc -> {
                UnsafeBuffer b = new UnsafeBuffer(new byte[48 + 8 * w + 12 * dc]);
                AckFlyweight a = new AckFlyweight();
                a.wrapForEncode(b, 0, b.capacity());
                a.encode(5, 77, 1, 2, 3, w, dc);
                for (int i = 0; i < w; i++) {
                    a.sackWord(i, i * 0x0101010101010101L);
                }
                for (int i = 0; i < dc; i++) {
                    a.durableEntry(i, i, i * 1000L);
                }
                a.seal();
                return b.byteArray();
            }));
        Arbitrary<byte[]> ping = Arbitraries.longs().map(ts -> {
            UnsafeBuffer b = new UnsafeBuffer(new byte[24]);
            PingFlyweight p = new PingFlyweight();
            p.wrapForEncode(b, 0, 24);
            p.encode(8, ts);
            return b.byteArray();
        });
        Arbitrary<byte[]> control = Arbitraries.of(WireCodecTest.controlSamples()).map(m -> {
            UnsafeBuffer b = new UnsafeBuffer(new byte[2048]);
            int len = ControlCodec.encode(b, 0, 2048, 9, m);
            byte[] out = new byte[len];
            b.getBytes(0, out);
            return out;
        });
        return Arbitraries.oneOf(data, ack, ping, control);
    }

    @Property(tries = 1000)
    void anySingleBitFlipOfAValidDatagramIsRejectedByTheChecksum(@ForAll("validDatagrams") byte[] datagram,
                                                               @ForAll @IntRange(min = 0, max = Integer.MAX_VALUE) int where) {
        UnsafeBuffer b = new UnsafeBuffer(datagram);
        assertEquals(Wire.OK, new HeaderFlyweight().wrap(b, 0, datagram.length).validate());
        int bit = where % (datagram.length * 8);
        datagram[bit / 8] ^= (byte) (1 << (bit % 8));
        int rc = new HeaderFlyweight().wrap(b, 0, datagram.length).validate();
        assertNotEquals(Wire.OK, rc);
        assertEquals(Wire.ERR_CHECKSUM, rc); // CRC32C detects every single-bit error
    }

    @Property(tries = 1000)
    void anyOtherLengthOfAValidFixedDatagramIsRejected(@ForAll("validDatagrams") byte[] datagram,
                                                     @ForAll @IntRange(min = 16, max = 2000) int newLength) {
        int type = datagram[1];
        if (!(type >= Wire.TYPE_DATA) || newLength == datagram.length) {
            return; // control bodies are protobuf: their length is self-describing
        }
        byte[] resized = java.util.Arrays.copyOf(datagram, newLength);
        UnsafeBuffer b = new UnsafeBuffer(resized);
        Checksum.seal(b, 0, newLength); // even with a matching checksum the layout check must fail
        assertEquals(Wire.ERR_LENGTH, new HeaderFlyweight().wrap(b, 0, newLength).validate());
    }
}
