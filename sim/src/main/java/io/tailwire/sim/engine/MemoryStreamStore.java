package io.tailwire.sim.engine;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.agrona.DirectBuffer;

/**
 * In-memory {@link StreamStore} that also judges the engine: every append must continue exactly where
 * the stream's held bytes end. An append that starts beyond them (a skipped byte) or, in strict mode,
 * overlaps them (a byte handed over twice) is recorded as a violation; overlapping bytes that differ
 * from what is stored are always a violation. Durability is either immediate or advanced by
 * {@link #sync()}. One stream per (agent, path, generation); insertion-ordered so reports are stable.
 */
public final class MemoryStreamStore implements StreamStore {
    /** One generation's bytes. */
    public final class Stream implements StoredStream {
        private final String key;
        private byte[] bytes = new byte[256];
        private long held;
        private long durable;
        private boolean released;
        private long appends;

        Stream(String key) {
            this.key = key;
        }

        @Override
        public long held() {
            return held;
        }

        @Override
        public long durable() {
            return durable;
        }

        @Override
        public boolean append(long offset, DirectBuffer src, int index, int length) {
            appends++;
            if (released) {
                violation(key + ": append at " + offset + " after release");
            }
            if (length < 0 || offset < 0) {
                violation(key + ": append with offset " + offset + " length " + length);
                return true;
            }
            if (offset > held) {
                violation(key + ": gap, append at " + offset + " but only " + held + " bytes held (bytes skipped)");
                return true;
            }
            int overlap = (int) Math.min(length, held - offset);
            if (overlap > 0) {
                if (strict) {
                    violation(key + ": bytes [" + offset + "," + (offset + overlap) + ") appended twice");
                }
                for (int i = 0; i < overlap; i++) {
                    if (bytes[(int) (offset + i)] != src.getByte(index + i)) {
                        violation(key + ": byte " + (offset + i) + " appended again with a different value");
                        break;
                    }
                }
            }
            int n = length - overlap;
            if (n <= 0) {
                return true;
            }
            if (held + n > Integer.MAX_VALUE - 16) {
                violation(key + ": stream beyond 2 GiB in a memory store");
                return false;
            }
            if (held + n > bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.max(held + n, Math.min(Integer.MAX_VALUE - 16,
                    2L * bytes.length)));
            }
            src.getBytes(index + overlap, bytes, (int) held, n);
            held += n;
            if (syncOnWrite) {
                durable = held;
            }
            return true;
        }

        @Override
        public void release() {
            released = true;
        }

        public boolean released() {
            return released;
        }

        public long appendCalls() {
            return appends;
        }

        /** A copy of the held bytes. */
        public byte[] content() {
            return Arrays.copyOf(bytes, (int) held);
        }
    }

    private final Map<String, Stream> streams = new LinkedHashMap<>();
    private final List<String> violations = new ArrayList<>();
    private final boolean syncOnWrite;
    private final boolean strict;
    private long opens;

    /**
     * @param syncOnWrite appended bytes are durable at once (else only after {@link #sync()})
     * @param strict      an append overlapping held bytes is a violation (right when nothing is ever resent
     *                    across a reconnect, as in one-connection runs)
     */
    public MemoryStreamStore(boolean syncOnWrite, boolean strict) {
        this.syncOnWrite = syncOnWrite;
        this.strict = strict;
    }

    @Override
    public OpenResult open(String agentId, StreamOpen request) {
        opens++;
        long gen = request.getGeneration() == 0 ? 1 : request.getGeneration();
        Stream s = streams.computeIfAbsent(key(agentId, request.getPath(), gen), Stream::new);
        s.released = false;
        return new OpenResult(StreamStatus.OK, s.durable, gen, "", s);
    }

    /** The stream, or null if never opened. */
    public Stream get(String agentId, String path, long generation) {
        return streams.get(key(agentId, path, generation));
    }

    /** Makes everything held durable; true when some durable offset moved. */
    public boolean sync() {
        boolean moved = false;
        for (Stream s : streams.values()) {
            if (s.durable != s.held) {
                s.durable = s.held;
                moved = true;
            }
        }
        return moved;
    }

    /** Sum of durable offsets, so a caller can tell cheaply whether durability advanced. */
    public long durableSum() {
        long sum = 0;
        for (Stream s : streams.values()) {
            sum += s.durable;
        }
        return sum;
    }

    public long opens() {
        return opens;
    }

    /** Everything wrong seen so far, oldest first. */
    public List<String> violations() {
        return List.copyOf(violations);
    }

    private void violation(String what) {
        if (violations.size() < 100) {
            violations.add(what);
        }
    }

    private static String key(String agentId, String path, long gen) {
        return agentId + ":" + path + ":" + gen;
    }
}
