package io.tailwire.server.store;

import io.tailwire.engine.StoredStream;
import io.tailwire.proto.GenerationEntry;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.function.Consumer;

/**
 * One generation of one path as the engine sees it: its bytes are [start, end) of the path's copy.
 * Threads: {@link #append}, {@link #close} and {@link #release} belong to the engine thread;
 * {@link #held}, {@link #durable} and {@link #finalLength} may be read from any thread.
 */
final class GenerationStream implements StoredStream {
    private final PathState s;
    private final long generation;
    private final long start;
    private final StagedWriter writer;
    private final IndexFiles index;
    private final OpenFiles files;
    private final StoreMetrics metrics;
    private final Consumer<String> log;
    /** Absolute end once a newer generation started; -1 while this is the newest. */
    volatile long end = -1;
    private boolean released;
    private boolean complained;
    private boolean closeFailing;

    GenerationStream(PathState s, long generation, long start, StagedWriter writer, IndexFiles index,
                     OpenFiles files, StoreMetrics metrics, Consumer<String> log) {
        this.s = s;
        this.generation = generation;
        this.start = start;
        this.writer = writer;
        this.index = index;
        this.files = files;
        this.metrics = metrics;
        this.log = log;
    }

    /** Writes what the store has gathered (the engine's once-per-turn flush); for tests. */
    boolean flush() {
        return writer.flush();
    }

    @Override
    public long held() {
        long e = end;
        return (e >= 0 ? e : s.written + s.stagedBytes) - start;
    }

    @Override
    public long durable() {
        long h = held();
        long d = s.durableEnd.get() - start;
        return Math.max(0, Math.min(d, h));
    }

    @Override
    public boolean append(long offset, DirectBuffer src, int index, int length) {
        if (released || end >= 0 || s.file == null) {
            complain(released ? "append after release" : end >= 0 ? "append to generation " + generation
                + " after a newer generation started" : "append after the store was closed");
            return false;
        }
        long held = s.written + s.stagedBytes - start;
        if (offset < 0 || length < 0 || offset > held) {
            complain("gap: append at offset " + offset + " but only " + held + " bytes held");
            return false;
        }
        long skip = held - offset; // already held: never written twice
        if (skip >= length) {
            return true;
        }
        return writer.append(s, src, index + (int) skip, (int) (length - skip));
    }

    private void complain(String what) {
        if (!complained) {
            complained = true;
            log.accept("store: " + s.key + " generation " + generation + ": " + what);
        }
    }

    @Override
    public long finalLength() {
        long e = end;
        return e >= 0 ? e - start : -1;
    }

    @Override
    public boolean close(long finalLength) {
        if (end >= 0) {
            return end - start == finalLength; // closed already (the next generation's open)
        }
        if (released || s.file == null || held() != finalLength || durable() < finalLength) {
            complain("close at " + finalLength + " with " + held() + " bytes held, " + durable() + " durable");
            return false;
        }
        int i = s.entries.size() - 1;
        GenerationEntry e = s.entries.get(i);
        if (e.getGeneration() != generation) {
            complain("close of generation " + generation + " that is not the newest");
            return false;
        }
        ArrayList<GenerationEntry> next = new ArrayList<>(s.entries);
        next.set(i, e.toBuilder().setClosed(true).setFinalLength(finalLength).build());
        try {
            index.write(s, next);
        } catch (IOException ex) {
            metrics.diskErrors.incrementAndGet();
            if (!closeFailing) { // once, not on every repeat of STREAM_CLOSE
                closeFailing = true;
                log.accept("store: " + s.key + ": cannot record the close of generation " + generation
                    + " (retried on each STREAM_CLOSE repeat): " + ex);
            }
            return false;
        }
        if (closeFailing) {
            log.accept("store: " + s.key + ": close of generation " + generation + " recorded after all");
        }
        s.entries = next;
        end = start + finalLength;
        return true;
    }

    @Override
    public void release() {
        if (released) {
            return;
        }
        released = true;
        files.released(s, this);
    }
}
