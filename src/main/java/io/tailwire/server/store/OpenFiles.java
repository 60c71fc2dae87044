package io.tailwire.server.store;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsFile;
import io.tailwire.proto.GenerationEntry;
import io.tailwire.proto.GenerationIndex;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The open-file cache: the paths loaded (output file open, index read), which of them have live streams,
 * and closing idle ones least recently used first when the limit is reached. Threads: the engine thread;
 * {@link #load} also runs on the parallel-I/O pool for paths not yet in the cache.
 */
final class OpenFiles {
    private final StoreMetrics metrics;
    private final Consumer<String> log;
    private final PathContainment containment;
    private final IndexFiles index;
    private final MovedCopies moved;
    private final StagedWriter writer;
    private final GroupCommit commit;

    // Engine thread only.
    private final Map<Key, PathState> states = new HashMap<>();
    /** States with no live stream, eldest first: the candidates for closing. */
    private final LinkedHashMap<Key, PathState> idle = new LinkedHashMap<>();

    OpenFiles(StoreMetrics metrics, Consumer<String> log, PathContainment containment, IndexFiles index,
              MovedCopies moved, StagedWriter writer, GroupCommit commit) {
        this.metrics = metrics;
        this.log = log;
        this.containment = containment;
        this.index = index;
        this.moved = moved;
        this.writer = writer;
        this.commit = commit;
    }

    PathState get(Key key) {
        return states.get(key);
    }

    boolean contains(Key key) {
        return states.containsKey(key);
    }

    Collection<PathState> all() {
        return states.values();
    }

    /** A freshly loaded path joins the cache, idle until a stream attaches. */
    void add(PathState s) {
        states.put(s.key, s);
        idle.put(s.key, s);
        metrics.openFiles++;
    }

    /** A stream of {@code s} became live: the file is no longer a candidate for closing. */
    void attached(PathState s, GenerationStream st) {
        s.handles.add(st);
        if (s.handles.size() == 1) {
            idle.remove(s.key);
        }
        metrics.liveStreams++;
    }

    /** A stream of {@code s} was released; the file is idle when it was the last. */
    void released(PathState s, GenerationStream st) {
        s.handles.remove(st);
        metrics.liveStreams--;
        if (s.handles.isEmpty() && s.file != null) {
            idle.put(s.key, s);
        }
    }

    /** Forgets every path (their files closed by the caller). */
    void clear() {
        states.clear();
        idle.clear();
        metrics.openFiles = 0;
    }

    /** Validates the path against the disk, creates directories, opens the output, reads the index. */
    PathState load(Key key) throws IOException {
        PathContainment.Target t = containment.resolve(key);
        FsFile file = null;
        try {
            String indexName = IndexFiles.indexName(key.path());
            GenerationIndex idx = index.read(t.meta(), indexName, key.path());
            List<GenerationEntry> entries = idx.getGenerationsList();

            file = t.dir().openWrite(t.name());
            if (!t.existed()) {
                t.dir().force();
            }
            // After a restart what the file holds once forced is the truth (wire-spec.md 6.1).
            file.force();
            metrics.forces.incrementAndGet();
            long size = file.size();
            FileKey fileKey = file.key();
            long base = 0;
            boolean record = false;
            if (idx.hasOutput()) {
                FileKey recorded = new FileKey(idx.getOutput().getDevice(), idx.getOutput().getInode());
                base = idx.getOutputBase();
                if (!recorded.equals(fileKey)) {
                    base = moved.movedWhileDown(key, t.dir(), t.name(), recorded, base, size, entries);
                    record = true;
                }
            } else {
                record = !entries.isEmpty(); // an index from before output identities: record it now
            }
            PathState s = new PathState(key, t.meta(), indexName, t.dir(), t.name(), file, fileKey, base,
                base + size);
            s.entries = new ArrayList<>(entries);
            if (record) {
                index.write(s, s.entries);
            }
            index.clampStarts(s, base + size);
            return s;
        } catch (IOException | RuntimeException e) {
            if (file != null) {
                file.close();
            }
            PathContainment.closeQuietly(t.dir());
            PathContainment.closeQuietly(t.meta());
            throw e;
        }
    }

    /** Closes the least recently used idle output file; false if every open file has a live stream. */
    boolean evictOne() {
        // First choice: a clean file the writer is not touching; no fsync on the engine thread.
        for (Iterator<PathState> it = idle.values().iterator(); it.hasNext(); ) {
            PathState s = it.next();
            if (s.stagedBytes > 0 || s.dirty.get() || s.written != s.durableEnd.get() || !s.lock.tryLock()) {
                continue;
            }
            try {
                closeFile(s);
            } finally {
                s.lock.unlock();
            }
            it.remove();
            states.remove(s.key);
            return true;
        }
        // Otherwise force the eldest idle file here: opening may block briefly.
        for (Iterator<PathState> it = idle.values().iterator(); it.hasNext(); ) {
            PathState s = it.next();
            if (!writer.flushStage(s)) {
                continue;
            }
            s.lock.lock();
            try {
                commit.forceLocked(s);
                closeFile(s);
            } catch (IOException e) {
                metrics.diskErrors.incrementAndGet();
                log.accept("store: " + s.key + ": cannot force idle output before closing it: " + e);
                continue;
            } finally {
                s.lock.unlock();
            }
            it.remove();
            states.remove(s.key);
            return true;
        }
        return false;
    }

    /** Caller holds the lock and knows the file is clean. */
    private void closeFile(PathState s) {
        try {
            s.file.close();
        } catch (IOException e) {
            log.accept("store: " + s.key + ": close failed: " + e);
        }
        s.file = null;
        s.closeDirs();
        metrics.openFiles--;
    }
}
