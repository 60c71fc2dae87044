package io.tailwire.bench;

import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.DataFlyweight;
import io.tailwire.wire.Wire;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * DATA and ACK encode/decode on the codec flyweights, at a 1472-byte datagram. Encode includes the
 * CRC32C seal and decode includes validation (which checks the CRC32C), as on the real path.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Thread)
public class WireBenchmark {
    private final DataFlyweight data = new DataFlyweight();
    private final AckFlyweight ack = new AckFlyweight();
    private final UnsafeBuffer out = new UnsafeBuffer(ByteBuffer.allocateDirect(65536));
    private final UnsafeBuffer payload = new UnsafeBuffer(ByteBuffer.allocateDirect(65536));
    private final UnsafeBuffer dataIn = new UnsafeBuffer(ByteBuffer.allocateDirect(65536));
    private final UnsafeBuffer ackIn = new UnsafeBuffer(ByteBuffer.allocateDirect(65536));
    private int dataLen;
    private int ackLen;
    private long pn;
    private static final int DGRAM = 1472;
    private static final int PAYLOAD = DGRAM - Wire.DATA_HEADER_LENGTH;

    @Setup
    public void setup() {
        for (int i = 0; i < PAYLOAD; i++) {
            payload.putByte(i, (byte) ('a' + i % 26));
        }
        data.wrapForEncode(dataIn, 0, dataIn.capacity());
        dataLen = data.encode(0x1234L, 77, 123456789L, 3, 1 << 20, payload, 0, PAYLOAD);
        ack.wrapForEncode(ackIn, 0, ackIn.capacity());
        ack.encode(0x1234L, 1000, 123456789L, 5000, 4 << 20, 2, 1);
        ack.sackWord(0, 0xF0F0L);
        ack.sackWord(1, 0x1L);
        ack.durableEntry(0, 3, 1 << 20);
        ackLen = ack.seal();
    }

    @Benchmark
    public int dataEncode() {
        data.wrapForEncode(out, 0, out.capacity());
        return data.encode(0x1234L, pn++, 123456789L, 3, pn * PAYLOAD, payload, 0, PAYLOAD);
    }

    @Benchmark
    public long dataDecode() {
        data.wrap(dataIn, 0, dataLen);
        if (data.validate(DGRAM) != 0) {
            throw new IllegalStateException("invalid DATA: " + data.validate(DGRAM));
        }
        return data.packetNumber() + data.streamOffset() + data.payloadLength() + data.streamId() + data.payloadIndex();
    }

    @Benchmark
    public int ackEncode() {
        ack.wrapForEncode(out, 0, out.capacity());
        ack.encode(0x1234L, pn++, 123456789L, 5000, 4 << 20, 2, 1);
        ack.sackWord(0, pn);
        ack.sackWord(1, 1);
        ack.durableEntry(0, 3, pn);
        return ack.seal();
    }

    @Benchmark
    public long ackDecode() {
        ack.wrap(ackIn, 0, ackLen);
        if (ack.validate(DGRAM) != 0) {
            throw new IllegalStateException("invalid ACK");
        }
        long s = ack.cumulative() + ack.window() + ack.echoTimestamp();
        for (int w = 0; w < ack.sackWords(); w++) {
            s += ack.sackWord(w);
        }
        for (int i = 0; i < ack.durableCount(); i++) {
            s += ack.durableOffset(i) + ack.durableStreamId(i);
        }
        return s;
    }
}
