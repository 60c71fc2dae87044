package io.tailwire.server.store;

import org.agrona.DirectBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.function.Consumer;

/**
 * Gathers appends per output file and writes them with one write per file per engine turn, then hands
 * the file to {@link GroupCommit}: a write per datagram was a fifth of the server's CPU at 1472-byte
 * datagrams. Stage buffers come from a small pool; a file that finds none writes through. Threads: the
 * engine thread only (the buffers, the pool and {@code written} have no other writer).
 */
final class StagedWriter {
    static final int STAGE_BYTES = 256 * 1024;
    static final int MAX_STAGES = 16;

    private final StoreMetrics metrics;
    private final GroupCommit commit;
    private final Consumer<String> log;
    private final ArrayDeque<ByteBuffer> freeStages = new ArrayDeque<>();
    private int stagesAllocated;
    private final ArrayList<PathState> staged = new ArrayList<>();
    private ByteBuffer scratch = ByteBuffer.allocateDirect(64 * 1024);

    StagedWriter(StoreMetrics metrics, GroupCommit commit, Consumer<String> log) {
        this.metrics = metrics;
        this.commit = commit;
        this.log = log;
    }

    /**
     * Appends {@code n} bytes of {@code src} at the end of what {@code s} holds (written plus staged).
     * False if storage refuses: nothing of them is then held.
     */
    boolean append(PathState s, DirectBuffer src, int index, int n) {
        if (s.writeFailing && !writeStage(s)) {
            return false; // storage refuses: take nothing more until what is staged is written
        }
        if (s.stage == null) {
            s.stage = takeStage();
        }
        if (s.stage != null && s.stagedBytes + n > s.stage.capacity() && !writeStage(s)) {
            return false;
        }
        if (s.stage == null || n > s.stage.capacity()) {
            return writeThrough(s, src, index, n);
        }
        src.getBytes(index, s.stage, s.stagedBytes, n);
        if (!s.listed) {
            s.listed = true;
            staged.add(s);
        }
        s.stagedBytes += n;
        return true;
    }

    /**
     * Writes everything appended since the last flush, one write per file, and hands the files to the
     * writer thread for forcing. Returns false if some file could not be written: its bytes stay staged
     * (held, never durable) and are retried by the next flush or append.
     */
    boolean flush() {
        boolean all = true;
        for (int i = 0; i < staged.size(); ) {
            PathState s = staged.get(i);
            if (flushStage(s)) {
                s.listed = false;
                staged.remove(i);
            } else {
                all = false;
                i++;
            }
        }
        return all;
    }

    /** Writes what {@code s} has gathered and returns its stage buffer to the pool. */
    boolean flushStage(PathState s) {
        if (s.stage == null) {
            return true;
        }
        if (!writeStage(s)) {
            return false;
        }
        freeStages.push(s.stage);
        s.stage = null;
        return true;
    }

    /** Writes what {@code s} has gathered, keeping its stage buffer. */
    private boolean writeStage(PathState s) {
        if (s.stage == null || s.stagedBytes == 0) {
            return true;
        }
        s.stage.limit(s.stagedBytes).position(0);
        boolean ok = write(s, s.stage);
        s.stage.clear();
        if (ok) {
            s.stagedBytes = 0;
        }
        return ok;
    }

    private ByteBuffer takeStage() {
        ByteBuffer b = freeStages.poll();
        if (b == null && stagesAllocated < MAX_STAGES) {
            stagesAllocated++;
            b = ByteBuffer.allocateDirect(STAGE_BYTES);
        }
        return b;
    }

    private boolean writeThrough(PathState s, DirectBuffer src, int index, int n) {
        ByteBuffer bb = scratch(n);
        src.getBytes(index, bb, 0, n);
        bb.limit(n).position(0);
        return write(s, bb);
    }

    /** Writes {@code bb} at the end of the file; on failure nothing counts as written. */
    private boolean write(PathState s, ByteBuffer bb) {
        if (s.file == null) {
            return false;
        }
        int n = bb.remaining();
        long at = s.written;
        try {
            s.file.write(bb, at - s.base);
        } catch (IOException e) {
            metrics.diskErrors.incrementAndGet();
            if (!s.writeFailing) {
                s.writeFailing = true;
                log.accept("store: " + s.key + ": cannot write output (will retry): " + e);
            }
            try {
                s.file.truncate(at - s.base); // drop any partial write so the file ends where we think
            } catch (IOException ignored) {
                // Harmless if it stays: bytes past `written` are overwritten or cut before use.
            }
            return false;
        }
        s.written = at + n;
        s.unchecked = true;
        metrics.bytesWritten += n;
        if (s.writeFailing) {
            s.writeFailing = false;
            log.accept("store: " + s.key + ": writing output works again");
        }
        commit.markDirty(s);
        return true;
    }

    private ByteBuffer scratch(int n) {
        if (scratch.capacity() < n) {
            scratch = ByteBuffer.allocateDirect(Math.max(n, scratch.capacity() * 2));
        }
        scratch.clear();
        return scratch;
    }
}
