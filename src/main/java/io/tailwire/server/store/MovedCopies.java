package io.tailwire.server.store;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsDir;
import io.tailwire.io.FsFile;
import io.tailwire.proto.GenerationEntry;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;

/**
 * The operator moves a copy away (a server-side logrotate, issue 11 item 8): the output file at a path is
 * no longer the one the store writes. Detected while running ({@link #maintain}) and at load
 * ({@link #movedWhileDown}); the copy continues in a new file at the path. Threads: the engine thread
 * (at load also the parallel-I/O pool, for a path no other thread holds yet).
 */
final class MovedCopies {
    /** How often output files written meanwhile are checked to still be at their paths (issue 11 item 8). */
    static final long MOVED_CHECK_INTERVAL_NS = 2_000_000_000L;

    private final StoreMetrics metrics;
    private final Consumer<String> log;
    private final StagedWriter writer;
    private final GroupCommit commit;
    private final IndexFiles index;
    private long nextMovedCheckNs;
    private boolean movedCheckStarted;

    MovedCopies(StoreMetrics metrics, Consumer<String> log, StagedWriter writer, GroupCommit commit,
                IndexFiles index) {
        this.metrics = metrics;
        this.log = log;
        this.writer = writer;
        this.commit = commit;
        this.index = index;
    }

    /**
     * Every {@link #MOVED_CHECK_INTERVAL_NS}, checks that each output file written since the last check is
     * still the file at its path; one moved away is continued in a new file at the path. A stat per
     * written file every two seconds, never per datagram.
     */
    void maintain(long nowNs, boolean closed, Collection<PathState> states) {
        if (movedCheckStarted && nowNs - nextMovedCheckNs < 0) {
            return;
        }
        movedCheckStarted = true;
        nextMovedCheckNs = nowNs + MOVED_CHECK_INTERVAL_NS;
        if (closed) {
            return;
        }
        for (PathState s : states) {
            if (s.unchecked && s.file != null) {
                s.unchecked = false;
                try {
                    checkMoved(s);
                } catch (IOException e) {
                    metrics.diskErrors.incrementAndGet();
                    log.accept("store: " + s.key + ": cannot check the output file at " + s.target + ": " + e);
                }
            }
        }
    }

    /**
     * If the file at the path is no longer the one we write (renamed, deleted or replaced), makes what we
     * wrote durable, records a new empty file at the path as the copy's continuation from the current end,
     * and writes there from now on: the old file keeps bytes up to that end, the new one the rest.
     */
    void checkMoved(PathState s) throws IOException {
        FileKey atPath = s.dir.key(s.name);
        if (s.fileKey.equals(atPath)) {
            return;
        }
        if (atPath != null && s.dir.size(s.name) > 0) {
            // Someone else's file: appending would mix it with ours. Keep writing the moved copy.
            if (!s.foreignLogged) {
                s.foreignLogged = true;
                log.accept("store: " + s.key + ": " + s.target + " now names another file that is not empty;"
                    + " still writing to the moved copy (move that file away to continue at the path)");
            }
            return;
        }
        if (!writer.flushStage(s)) {
            return; // cannot write: the next check tries again
        }
        s.lock.lock();
        try {
            commit.forceLocked(s); // everything the old file got is durable before the index says where it ends
        } finally {
            s.lock.unlock();
        }
        Path movedTo = findByKey(s.dir, s.name, s.fileKey);
        FsFile nf = s.dir.openWrite(s.name);
        try {
            s.dir.force();
            FileKey nk = nf.key();
            long base = s.written;
            index.write(s, s.entries, nk, base);
            FsFile old;
            s.lock.lock();
            try {
                old = s.file;
                s.file = nf;
            } finally {
                s.lock.unlock();
            }
            nf = null;
            s.fileKey = nk;
            s.base = base;
            s.foreignLogged = false;
            try {
                old.close();
            } catch (IOException e) {
                log.accept("store: " + s.key + ": closing the moved copy failed: " + e);
            }
            log.accept("store: " + s.key + ": the output file was moved away (" + (movedTo == null ? "not found in "
                + s.target.getParent() : "now " + movedTo) + ", holding the copy up to byte " + base
                + "); continuing in a new file at " + s.target);
        } finally {
            if (nf != null) {
                nf.close();
            }
        }
    }

    /**
     * At load: the index names an output file that is no longer at the path. Finds it beside the path
     * (where logrotate puts it) to learn how far the copy got; returns the new file's base offset.
     */
    long movedWhileDown(Key key, FsDir dir, String name, FileKey recorded, long base, long size,
                        List<GenerationEntry> entries) throws IOException {
        Path target = dir.path().resolve(name);
        if (size > 0) {
            throw new IOException(target + " is not the server's copy (another, non-empty file);"
                + " move it away and the server continues the copy in a new file");
        }
        Path movedTo = findByKey(dir, name, recorded);
        long end;
        if (movedTo != null) {
            end = base + Math.max(0, dir.size(movedTo.getFileName().toString()));
        } else {
            // Gone: how much of the newest generation it held is unknown. Its open generation starts again
            // in the new file (agents resend it); a closed one ends where it was closed.
            GenerationEntry n = entries.isEmpty() ? null : entries.get(entries.size() - 1);
            end = n == null ? base : n.getClosed() ? n.getStart() + n.getFinalLength() : n.getStart();
        }
        log.accept("store: " + key + ": the output file was moved away while the server was down ("
            + (movedTo == null ? "not found in " + target.getParent() + "; the newest open generation is written"
            + " again from its start" : "now " + movedTo + ", holding the copy up to byte " + end)
            + "); continuing in a new file at " + target);
        return end;
    }

    /** A file beside {@code name} in {@code dir} with this key, or null (a path for messages). */
    private static Path findByKey(FsDir dir, String name, FileKey k) throws IOException {
        for (String n : dir.list()) {
            if (!n.equals(name) && k.equals(dir.key(n))) {
                return dir.path().resolve(n);
            }
        }
        return null;
    }
}
