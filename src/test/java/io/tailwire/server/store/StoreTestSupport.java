package io.tailwire.server.store;

import io.tailwire.wire.Fingerprint;
import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore.OpenResult;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;
import org.agrona.DirectBuffer;

import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;

final class StoreTestSupport {
    private StoreTestSupport() {
    }

    static StreamOpen open(String path, long gen) {
        return open(path, gen, FileIdentity.getDefaultInstance(), 0);
    }

    static StreamOpen open(String path, long gen, FileIdentity id, long prevLen) {
        return StreamOpen.newBuilder().setStreamId(1).setPath(path).setGeneration(gen).setIdentity(id)
            .setPreviousGenerationLength(prevLen).build();
    }

    /** Identity as an agent computes it over the file's current content (wire-spec.md 6.4). */
    static FileIdentity identity(long dev, long ino, byte[] content) {
        int len = Math.min(1024, content.length);
        return FileIdentity.newBuilder().setDevice(dev).setInode(ino).setFingerprintLength(len)
            .setFingerprint(Fingerprint.of(content, 0, len)).build();
    }

    static StoredStream ok(OpenResult r) {
        assertEquals(StreamStatus.OK, r.status(), r.message());
        return r.stream();
    }

    static boolean append(StoredStream s, long offset, byte[] data, int from, int to) {
        byte[] backing = new byte[to - from + 7];
        System.arraycopy(data, from, backing, 3, to - from); // non-zero index, to catch index mistakes
        // The store gathers appends until the engine's flush (once per turn); a test's append is one turn.
        return s.append(offset, buffer(backing), 3, to - from) && ((GenerationStream) s).flush();
    }

    static boolean append(StoredStream s, long offset, byte[] data) {
        return append(s, offset, data, 0, data.length);
    }

    /**
     * A read-only DirectBuffer over a byte array. Agrona's own buffers need
     * --add-exports java.base/jdk.internal.misc=ALL-UNNAMED on JDK 17, which the build does not pass
     * (yet); the store only calls getBytes into a ByteBuffer, so a proxy answering that is enough.
     */
    static DirectBuffer buffer(byte[] backing) {
        return (DirectBuffer) Proxy.newProxyInstance(DirectBuffer.class.getClassLoader(),
            new Class<?>[] {DirectBuffer.class}, (proxy, m, args) -> {
                if (m.getName().equals("capacity")) {
                    return backing.length;
                }
                if (m.getName().equals("getBytes") && args.length == 4 && args[1] instanceof ByteBuffer dst) {
                    int index = (Integer) args[0];
                    int dstOffset = (Integer) args[2];
                    int length = (Integer) args[3];
                    if (index < 0 || length < 0 || index + length > backing.length) {
                        throw new IndexOutOfBoundsException("index=" + index + " length=" + length);
                    }
                    for (int i = 0; i < length; i++) {
                        dst.put(dstOffset + i, backing[index + i]);
                    }
                    return null;
                }
                throw new UnsupportedOperationException(m.toString());
            });
    }

    static byte[] read(Path p) throws IOException {
        return Files.exists(p) ? Files.readAllBytes(p) : new byte[0];
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] r = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, r, at, p.length);
            at += p.length;
        }
        return r;
    }

    static byte[] bytes(String s) {
        return s.getBytes();
    }

    static byte[] prefix(byte[] b, long n) {
        return Arrays.copyOf(b, (int) n);
    }

    /** Collects log lines. */
    static final class Log implements java.util.function.Consumer<String> {
        final List<String> lines = new CopyOnWriteArrayList<>();

        @Override
        public void accept(String s) {
            lines.add(s);
        }

        long count(String needle) {
            return lines.stream().filter(l -> l.contains(needle)).count();
        }
    }
}
