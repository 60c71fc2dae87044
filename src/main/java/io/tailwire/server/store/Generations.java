package io.tailwire.server.store;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore.OpenResult;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.GenerationEntry;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.Fingerprint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.function.Consumer;

/**
 * The generation rules of wire-spec.md 6.1 and 6.4 applied to a loaded path: resume, start the next
 * generation, or refuse; and recording a new generation in the index. Threads: the engine thread;
 * {@link #recordGeneration} also on the parallel-I/O pool for a path being loaded (no other thread
 * holds it yet).
 */
final class Generations {
    static final int MAX_FINGERPRINT = 1024;

    private final int maxIndexEntries;
    private final StoreMetrics metrics;
    private final Consumer<String> log;
    private final IndexFiles index;
    private final GroupCommit commit;
    private final StagedWriter writer;
    private final OpenFiles files;
    // Engine thread only.
    private final ByteBuffer fpBuf = ByteBuffer.allocate(MAX_FINGERPRINT);

    Generations(int maxIndexEntries, StoreMetrics metrics, Consumer<String> log, IndexFiles index,
                GroupCommit commit, StagedWriter writer, OpenFiles files) {
        this.maxIndexEntries = maxIndexEntries;
        this.metrics = metrics;
        this.log = log;
        this.index = index;
        this.commit = commit;
        this.writer = writer;
        this.files = files;
    }

    static OpenResult result(StreamStatus status, long resume, long gen, String msg, StoredStream st) {
        return new OpenResult(status, resume, gen, msg, st);
    }

    /** Applies wire-spec.md 6.1 to a loaded path. */
    OpenResult bind(PathState s, StreamOpen req) throws IOException {
        long g = req.getGeneration();
        GenerationEntry newest = s.newest();
        if (newest == null) {
            return startGeneration(s, g == 0 ? 1 : g, req);
        }
        long ng = newest.getGeneration();
        if (g == 0) {
            if (identityMatches(s, newest, req.getIdentity(), false)) {
                return resume(s, newest);
            }
            return startGeneration(s, ng + 1, req);
        }
        int cmp = Long.compareUnsigned(g, ng);
        if (cmp == 0) {
            if (!identityMatches(s, newest, req.getIdentity(), true)) {
                // Resuming would continue another file's bytes at this one's offset (issue 11 item 3).
                log.accept("store: " + s.key + ": refused reopen of generation " + Long.toUnsignedString(g)
                    + ": the agent's file " + describe(req.getIdentity()) + " is not the one it holds "
                    + describe(newest.getIdentity()));
                return result(StreamStatus.IDENTITY_MISMATCH, 0, ng, "generation " + Long.toUnsignedString(g)
                    + " holds another file; reopen with generation 0", null);
            }
            return resume(s, newest);
        }
        if (cmp > 0) {
            long heldPrev = s.written - newest.getStart();
            if (newest.getClosed()) {
                if (Long.compareUnsigned(g, ng + 1) == 0 && req.getPreviousGenerationLength() != newest.getFinalLength()) {
                    log.accept("store: " + s.key + ": agent says generation " + ng + " ended at "
                        + Long.toUnsignedString(req.getPreviousGenerationLength()) + " bytes, it was closed at "
                        + newest.getFinalLength());
                }
            } else if (Long.compareUnsigned(g, ng + 1) == 0) {
                if (req.getPreviousGenerationLength() != heldPrev) {
                    // Generation g is still open and the agent's idea of its end is not ours: starting the
                    // next one would freeze g where it stands (issue 11 item 4).
                    log.accept("store: " + s.key + ": refused generation " + Long.toUnsignedString(g) + ": generation "
                        + ng + " is still open with " + heldPrev + " bytes, agent says it ended at "
                        + Long.toUnsignedString(req.getPreviousGenerationLength()));
                    return result(StreamStatus.PREVIOUS_GENERATION_OPEN, heldPrev, ng, "generation " + ng
                        + " is open with " + heldPrev + " bytes; close it first or reopen with generation 0", null);
                }
            } else {
                log.accept("store: " + s.key + ": generation " + Long.toUnsignedString(g) + " opened while generation "
                    + ng + " was open: closing it at " + heldPrev + " bytes");
            }
            return startGeneration(s, g, req);
        }
        return result(StreamStatus.STALE_GENERATION, 0, ng,
            "server holds newer generation " + Long.toUnsignedString(ng), null);
    }

    private OpenResult resume(PathState s, GenerationEntry e) throws IOException {
        if (e.getClosed()) {
            return result(StreamStatus.GENERATION_CLOSED, e.getFinalLength(), e.getGeneration(),
                "generation " + e.getGeneration() + " is closed at " + e.getFinalLength() + " bytes", null);
        }
        commit.forceNow(s); // the resume offset we announce must be durable
        GenerationStream st = attach(s, e.getGeneration(), e.getStart());
        return result(StreamStatus.OK, s.written - e.getStart(), e.getGeneration(), "", st);
    }

    private OpenResult startGeneration(PathState s, long gen, StreamOpen req) throws IOException {
        long start = recordGeneration(s, gen, req);
        for (GenerationStream h : s.handles) {
            if (h.end < 0) {
                h.end = start; // older generation: fixed from now on
            }
        }
        GenerationStream st = attach(s, gen, start);
        return result(StreamStatus.OK, 0, gen, "", st);
    }

    /** Makes the output durable to its end and records generation {@code gen} as starting there. */
    long recordGeneration(PathState s, long gen, StreamOpen req) throws IOException {
        // Bytes past `written` can only be the remains of a failed write: cut them before they become
        // part of the new generation.
        if (s.base + s.file.size() > s.written) {
            s.file.truncate(s.written - s.base);
            s.file.force();
            metrics.forces.incrementAndGet();
        }
        commit.forceNow(s); // the start recorded below must not lie beyond the durable end of the output
        long start = s.written;
        ArrayList<GenerationEntry> next = new ArrayList<>(s.entries);
        GenerationEntry prev = s.newest();
        if (prev != null && !prev.getClosed()) {
            // The new generation closes the previous one where it stands, in the same index write.
            next.set(next.size() - 1, prev.toBuilder().setClosed(true).setFinalLength(start - prev.getStart()).build());
        }
        next.add(GenerationEntry.newBuilder().setGeneration(gen).setIdentity(req.getIdentity())
            .setStart(start).build());
        while (next.size() > maxIndexEntries) {
            next.remove(0);
        }
        index.write(s, next);
        s.entries = next;
        return start;
    }

    /**
     * wire-spec.md 6.1 and 6.4: same device and inode, and the same first bytes. When the agent's
     * fingerprint covers a different length than the one recorded, the server hashes what it holds. If it
     * holds fewer bytes than the agent's fingerprint covers it cannot verify them: an explicitly numbered
     * reopen ({@code numbered}) is then trusted on device and inode, a generation-0 match is not.
     */
    private boolean identityMatches(PathState s, GenerationEntry e, FileIdentity id, boolean numbered)
        throws IOException {
        FileIdentity st = e.getIdentity();
        if (st.getDevice() != id.getDevice() || st.getInode() != id.getInode()) {
            return false;
        }
        if (st.getFingerprintLength() == id.getFingerprintLength() && st.getFingerprint() == id.getFingerprint()) {
            return true;
        }
        int len = id.getFingerprintLength();
        long held = s.written - e.getStart();
        if (len < 0 || len > MAX_FINGERPRINT) {
            return false;
        }
        if (held < len) {
            return numbered; // cannot verify: a new generation may repeat bytes but never mixes files
        }
        if (!numbered && len < MAX_FINGERPRINT && held > len) {
            // Generation 0: the agent's file may be shorter than what we hold (truncated). A numbered
            // generation's fingerprint may be shorter than what was shipped (a rotated file keeps the one
            // taken before it moved), so there its first bytes decide.
            return false;
        }
        if (e.getStart() < s.base) {
            return numbered; // its first bytes are in an earlier output file (renamed away): cannot verify
        }
        fpBuf.clear().limit(len);
        long pos = e.getStart() - s.base;
        while (fpBuf.hasRemaining()) {
            int n = s.file.read(fpBuf, pos);
            if (n < 0) {
                return false;
            }
            pos += n;
        }
        return Fingerprint.of(fpBuf.array(), 0, len) == id.getFingerprint();
    }

    private static String describe(FileIdentity id) {
        return "(device " + id.getDevice() + ", inode " + id.getInode() + ", fingerprint of "
            + id.getFingerprintLength() + " bytes " + Long.toHexString(id.getFingerprint()) + ")";
    }

    private GenerationStream attach(PathState s, long gen, long start) {
        GenerationStream st = new GenerationStream(s, gen, start, writer, index, files, metrics, log);
        files.attached(s, st);
        return st;
    }
}
