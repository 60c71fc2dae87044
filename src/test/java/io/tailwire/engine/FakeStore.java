package io.tailwire.engine;

import java.util.HashMap;
import java.util.Map;

import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;

import org.agrona.DirectBuffer;

/** In-memory StreamStore for engine tests: one growing byte array per (agent, path, generation). */
final class FakeStore implements StreamStore {
    final class Mem implements StoredStream {
        byte[] bytes = new byte[1024];
        long held;
        long durable;
        long appendCalls;
        boolean released;

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
            appendCalls++;
            if (offset > held) {
                throw new AssertionError("append beyond held: " + offset + " > " + held);
            }
            if (refuseAppends) {
                return false;
            }
            int skip = (int) (held - offset);
            int n = length - skip;
            if (n <= 0) {
                return true;
            }
            while (held + n > bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, bytes.length * 2);
            }
            src.getBytes(index + skip, bytes, (int) held, n);
            held += n;
            if (autoDurable) {
                durable = held;
            }
            return true;
        }

        @Override
        public void release() {
            released = true;
        }

        byte[] content() {
            return java.util.Arrays.copyOf(bytes, (int) held);
        }
    }

    final Map<String, Mem> streams = new HashMap<>();
    boolean autoDurable = true;
    boolean refuseAppends;
    int opens;

    /** Paths starting with this are refused with BAD_PATH, as the real store refuses a hostile path. */
    String refusedPrefix = "/refused/";
    /** Live streams the whole server may hold, like OutputStore.Config.maxStreams. */
    int maxStreams = Integer.MAX_VALUE;

    @Override
    public OpenResult open(String agentId, StreamOpen request) {
        opens++;
        if (request.getPath().startsWith(refusedPrefix)) {
            return new OpenResult(StreamStatus.BAD_PATH, 0, 0, "refused", null);
        }
        if (streams.values().stream().filter(m -> !m.released).count() >= maxStreams) {
            return new OpenResult(StreamStatus.TOO_MANY_STREAMS, 0, 0, "server holds " + maxStreams, null);
        }
        long gen = request.getGeneration() == 0 ? 1 : request.getGeneration();
        Mem m = streams.computeIfAbsent(agentId + ":" + request.getPath() + ":" + gen, k -> new Mem());
        m.released = false;
        return new OpenResult(StreamStatus.OK, m.durable, gen, "", m);
    }

    Mem get(String agentId, String path, long gen) {
        return streams.get(agentId + ":" + path + ":" + gen);
    }

    /** Makes everything held durable; returns true when something changed. */
    boolean sync() {
        boolean changed = false;
        for (Mem m : streams.values()) {
            if (m.durable != m.held) {
                m.durable = m.held;
                changed = true;
            }
        }
        return changed;
    }
}
