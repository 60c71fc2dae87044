package io.tailwire.sim.system;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;
import io.tailwire.server.store.OutputPaths;
import io.tailwire.sim.SimFs;

import java.nio.file.Path;
import org.agrona.DirectBuffer;

/**
 * Sits between the server engine and the real OutputStore and records every durable offset the store
 * hands the engine (resume offsets in STREAM_REPLY, durable() values that go into ACKs and
 * STREAM_CLOSED). Each is turned into an absolute promise on the output file, checked at once against
 * what the simulated disk really holds durably, and remembered so that every later crash can be checked
 * against it.
 */
final class RecordingStore implements StreamStore {
    /** Told of every promise: output file and its absolute durable end. */
    interface Promises {
        void promise(Path output, long end, String what);
    }

    private final StreamStore inner;
    private final SimFs fs;
    private final Path out;
    private final Promises promises;
    /** The newest stream opened on each output file (for the liveness condition). */
    private final java.util.Map<Path, Recorded> latest = new java.util.HashMap<>();

    RecordingStore(StreamStore inner, SimFs fs, Path out, Promises promises) {
        this.inner = inner;
        this.fs = fs;
        this.out = out;
        this.promises = promises;
    }

    static Path outputFile(Path out, String agentId, String path) {
        return OutputPaths.outputFile(out.resolve(agentId), path);
    }

    @Override
    public OpenResult open(String agentId, StreamOpen request) {
        OpenResult r = inner.open(agentId, request);
        if (r.status() != StreamStatus.OK || r.stream() == null) {
            return r;
        }
        Path file = outputFile(out, agentId, request.getPath());
        // Right after open the output ends at the generation's held bytes (the store forced and cut any
        // remains), so its start is the file size less what the generation holds.
        long start = fs.size(file) - r.stream().held();
        promises.promise(file, start + r.resumeOffset(), "resume offset of generation " + r.generation());
        Recorded rec = new Recorded(r.stream(), file, start, r.generation());
        latest.put(file, rec);
        return new OpenResult(r.status(), r.resumeOffset(), r.generation(), r.message(), rec);
    }

    @Override
    public boolean flush() {
        return inner.flush();
    }

    @Override
    public void maintain(long nowNs) {
        inner.maintain(nowNs);
    }

    /** True if the newest stream on output is generation gen, holding exactly length bytes, all durable. */
    boolean holdsDurably(Path output, long gen, long length) {
        Recorded r = latest.get(output);
        return r != null && r.generation == gen && r.s.held() == length && r.s.durable() == length;
    }

    private final class Recorded implements StoredStream {
        final StoredStream s;
        final Path file;
        final long start;
        final long generation;

        Recorded(StoredStream s, Path file, long start, long generation) {
            this.s = s;
            this.file = file;
            this.start = start;
            this.generation = generation;
        }

        @Override
        public long held() {
            return s.held();
        }

        @Override
        public long durable() {
            long d = s.durable();
            promises.promise(file, start + d, "durable offset of generation " + generation);
            return d;
        }

        @Override
        public boolean append(long offset, DirectBuffer src, int index, int length) {
            return s.append(offset, src, index, length);
        }

        @Override
        public long finalLength() {
            return s.finalLength();
        }

        @Override
        public boolean close(long finalLength) {
            return s.close(finalLength);
        }

        @Override
        public void release() {
            s.release();
        }
    }
}
