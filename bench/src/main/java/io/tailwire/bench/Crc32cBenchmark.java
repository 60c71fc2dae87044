package io.tailwire.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Cost of the per-datagram checksum from wire-spec section 2 (CRC32C over bytes 0..3 and 8..end), the one
 * piece of per-packet work fixed by the spec today. Direct buffers, as the socket path uses them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class Crc32cBenchmark {
    @Param({"64", "1472", "8192"})
    public int size;

    private ByteBuffer datagram;
    private final CRC32C crc = new CRC32C();

    @Setup
    public void setup() {
        datagram = ByteBuffer.allocateDirect(size);
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < size; i++) {
            datagram.put((byte) r.nextInt());
        }
    }

    @Benchmark
    public long headerChecksum() {
        crc.reset();
        ByteBuffer b = datagram.duplicate();
        b.limit(4).position(0);
        crc.update(b);
        b.limit(size).position(8);
        crc.update(b);
        return crc.getValue();
    }
}
