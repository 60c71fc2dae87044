package io.tailwire.server.store;

import io.tailwire.config.Configuration;
import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore;
import io.tailwire.io.Fs;
import io.tailwire.io.FsDir;
import io.tailwire.io.UnsafeLinkException;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;

import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import static io.tailwire.server.store.Generations.result;

/**
 * The server's storage: one output file per (agent, source path) under OUT, holding all generations of
 * that path back to back, plus a generation index per path in OUT/agent_id/.tailwire/ (wire-spec.md 6).
 * A facade over the package's rooms: {@link OutputPaths} and {@link PathContainment} (names and where
 * they may go), {@link OpenFiles} (loaded paths, closing idle ones), {@link Generations} and
 * {@link IndexFiles} (wire-spec.md 6.1 and the index on disk), {@link StagedWriter} (one write per file
 * per turn), {@link GroupCommit} (forcing on the writer thread), {@link MovedCopies} (a copy moved away).
 *
 * <p>Threads: {@link #open}, {@link #openAll}, {@link #flush}, {@link #maintain}, {@link StoredStream#append},
 * {@link StoredStream#release} and {@link #close} belong to one engine thread. {@link #syncDirty} belongs
 * to one writer thread (group commit). {@link StoredStream#held}, {@link StoredStream#durable} and the
 * metric getters may be read from any thread. Append takes no lock: it writes, publishes the new end in a
 * volatile and queues the file once per sync interval; the writer snapshots that end, forces, then
 * publishes it as durable. A per-file lock only orders forcing against closing (eviction, open), never the
 * data path.
 */
public final class OutputStore implements StreamStore, AutoCloseable {

    /**
     * @param maxStreams      live {@link StoredStream}s (opened, not released); beyond: TOO_MANY_STREAMS
     * @param maxOpenFiles    output files held open; idle ones are closed least recently used first;
     *                        when every open file has a live stream: TOO_MANY_STREAMS
     * @param maxIndexEntries generations remembered per path (oldest dropped; only the newest matters
     *                        to the protocol, the rest are for people reading the index)
     */
    public record Config(int maxStreams, int maxOpenFiles, int maxIndexEntries) {
        /**
         * Keep 3 × maxOpenFiles well below the process's open-file limit (ulimit -n): each open output file
         * holds its directory and its agent's .tailwire open too (PathContainment).
         */
        public static final Config DEFAULT = new Config(Configuration.STORE_MAX_LIVE_STREAMS,
            Configuration.STORE_MAX_OPEN_FILES, Configuration.STORE_MAX_INDEX_ENTRIES);

        public Config {
            if (maxStreams < 1 || maxOpenFiles < 1 || maxIndexEntries < 1) {
                throw new IllegalArgumentException("limits must be positive");
            }
        }
    }

    private final Config config;
    private final Consumer<String> log;
    private final StoreMetrics metrics = new StoreMetrics();
    private final GroupCommit commit;
    private final StagedWriter writer;
    private final MovedCopies moved;
    private final OpenFiles files;
    private final Generations generations;
    /** OUT, open for the store's lifetime: everything below is reached from it by name ({@link PathContainment}). */
    private final FsDir out;

    // Engine thread only.
    private boolean closed;
    private ExecutorService ioExecutor;

    /**
     * @param fs  every file operation goes through it
     * @param out the output directory OUT (created if absent)
     * @param log receives one line per notable event (rejections, disk errors and recoveries); called on
     *            the engine or the writer thread, so it must be thread-safe
     */
    public OutputStore(Fs fs, Path out, Config config, Consumer<String> log) throws IOException {
        this.config = config;
        this.log = log;
        if (!fs.isDirectory(out)) {
            fs.createDirectories(out);
        }
        this.out = fs.openDir(out);
        IndexFiles index = new IndexFiles(metrics, log);
        this.commit = new GroupCommit(metrics, log);
        this.writer = new StagedWriter(metrics, commit, log);
        this.moved = new MovedCopies(metrics, log, writer, commit, index);
        this.files = new OpenFiles(metrics, log, new PathContainment(this.out), index, moved, writer, commit);
        this.generations = new Generations(config.maxIndexEntries(), metrics, log, index, commit, writer, files);
    }

    /**
     * Called on the engine thread when an output file goes from clean to dirty (at most once per file
     * per {@link #syncDirty} round), e.g. to unpark the writer thread. Must be cheap and not block.
     */
    public void onDirty(Runnable listener) {
        commit.onDirty(listener);
    }

    // ---------------------------------------------------------------- open

    /**
     * Lets {@link #openAll} load several new output paths at once and {@link #syncDirty} force several files
     * at once: their forces then overlap, and the file system commits concurrent forces together. One after
     * another, 1000 agents' first opens cost ~17 ms each here (about nine forces per new agent and path),
     * and a group commit over 1000 files took seconds. Null: one after another (the simulator's and the
     * tests' default: deterministic).
     */
    public void parallelIo(ExecutorService executor) {
        this.ioExecutor = executor;
        commit.parallelIo(executor);
    }

    @Override
    public List<OpenResult> openAll(List<OpenRequest> requests) {
        Map<Key, Future<PathState>> loading = new HashMap<>();
        if (ioExecutor != null && requests.size() > 1 && !closed) {
            int room = config.maxOpenFiles() - metrics.openFiles;
            for (OpenRequest r : requests) {
                String path = r.request().getPath();
                if (loading.size() >= room) {
                    break;
                }
                if (OutputPaths.checkAgentId(r.agentId()) != null || OutputPaths.checkSourcePath(path) != null) {
                    continue;
                }
                Key key = new Key(r.agentId(), path);
                if (!files.contains(key) && !loading.containsKey(key)) {
                    StreamOpen req = r.request();
                    loading.put(key, ioExecutor.submit(() -> loadForOpen(key, req)));
                }
            }
        }
        List<OpenResult> results = new ArrayList<>(requests.size());
        for (OpenRequest r : requests) {
            results.add(open(r.agentId(), r.request(), loading));
        }
        for (Future<PathState> left : loading.values()) { // loaded, then refused (e.g. too many streams)
            try {
                PathState s = left.get();
                s.closeDirs();
                s.file.close();
            } catch (ExecutionException | IOException e) {
                // nothing was opened, or closing it failed: nothing to undo
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return results;
    }

    @Override
    public OpenResult open(String agentId, StreamOpen request) {
        return open(agentId, request, Map.of());
    }

    private OpenResult open(String agentId, StreamOpen request, Map<Key, Future<PathState>> loading) {
        if (closed) {
            return result(StreamStatus.STORAGE_ERROR, 0, 0, "store closed", null);
        }
        String why = OutputPaths.checkAgentId(agentId);
        if (why == null) {
            why = OutputPaths.checkSourcePath(request.getPath());
        }
        if (why != null) {
            return reject(agentId, request.getPath(), why);
        }
        if (metrics.liveStreams >= config.maxStreams()) {
            return result(StreamStatus.TOO_MANY_STREAMS, 0, 0,
                "server holds " + config.maxStreams() + " streams", null);
        }
        Key key = new Key(agentId, request.getPath());
        PathState s = files.get(key);
        if (s == null) {
            if (metrics.openFiles >= config.maxOpenFiles() && !files.evictOne()) {
                return result(StreamStatus.TOO_MANY_STREAMS, 0, 0,
                    "server has " + config.maxOpenFiles() + " output files in use", null);
            }
            try {
                s = loaded(key, loading);
            } catch (PathContainment.BadPathException e) {
                return reject(agentId, request.getPath(), e.getMessage());
            } catch (UnsafeLinkException e) {
                // Planted by someone who can write inside OUT (the output file, or its index, is a link or
                // has another name): refused like a link on the path, never written (issue 13 item 10).
                log.accept("store: " + key + ": " + e.getMessage());
                return reject(agentId, request.getPath(), "output file or its index is a link (refused below OUT)");
            } catch (InvalidPathException e) {
                // Typically a name the JVM cannot encode: the server must run with a UTF-8 locale.
                return reject(agentId, request.getPath(), "path cannot be represented on this file system");
            } catch (IOException e) {
                return storageError(key, "cannot open output", e);
            }
            files.add(s);
        }
        if (!writer.flushStage(s)) {
            return result(StreamStatus.STORAGE_ERROR, 0, 0, "cannot write output", null);
        }
        try {
            moved.checkMoved(s); // a resume offset must count what the moved-away copy holds, and new bytes go to the path
            return generations.bind(s, request);
        } catch (IOException e) {
            return storageError(key, "cannot open stream", e);
        }
    }

    /**
     * {@link OpenFiles#load}, and for a path without generations also the first generation's index entry:
     * the forces of a brand-new path (directories, file, index) all happen here, in parallel with other
     * paths. The engine thread's {@link Generations#bind} then finds that generation and resumes it at its
     * start, answering exactly what starting it there would have.
     */
    private PathState loadForOpen(Key key, StreamOpen req) throws IOException {
        PathState s = files.load(key);
        if (s.entries.isEmpty()) {
            try {
                generations.recordGeneration(s, req.getGeneration() == 0 ? 1 : req.getGeneration(), req);
            } catch (IOException | RuntimeException e) {
                s.file.close();
                s.closeDirs();
                throw e;
            }
        }
        return s;
    }

    /** The path loaded by {@link #openAll}'s executor if it did, else loaded here. */
    private PathState loaded(Key key, Map<Key, Future<PathState>> loading) throws IOException {
        Future<PathState> f = loading.isEmpty() ? null : loading.remove(key);
        if (f == null) {
            return files.load(key);
        }
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while opening", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(cause);
        }
    }

    private OpenResult reject(String agentId, String path, String why) {
        metrics.rejectedPaths++;
        log.accept("store: refused path " + OutputPaths.quote(path) + " from agent " + OutputPaths.quote(agentId)
            + ": " + why);
        return result(StreamStatus.BAD_PATH, 0, 0, why, null);
    }

    private OpenResult storageError(Key key, String what, IOException e) {
        metrics.diskErrors.incrementAndGet();
        log.accept("store: " + key + ": " + what + ": " + e);
        return result(StreamStatus.STORAGE_ERROR, 0, 0, what + ": " + e.getMessage(), null);
    }

    // ---------------------------------------------------------------- engine turn

    /** Engine thread: see {@link MovedCopies#maintain}. */
    @Override
    public void maintain(long nowNs) {
        moved.maintain(nowNs, closed, files.all());
    }

    /**
     * Writes everything appended since the last flush, one write per file, and hands the files to the
     * writer thread for forcing. Engine thread. Returns false if some file could not be written: its bytes
     * stay staged (held, never durable) and are retried by the next flush or append.
     */
    @Override
    public boolean flush() {
        return writer.flush();
    }

    /**
     * Group commit, for the writer thread (or the simulator): forces every output file written since its
     * last force and advances the durable length of its streams. Files whose force fails stay pending
     * and are retried by the next call. Returns the number of files forced.
     */
    public int syncDirty() {
        return commit.syncDirty();
    }

    /** Engine thread, after the writer thread has stopped: forces and closes every output file. */
    @Override
    public void close() {
        shutdown();
    }

    /**
     * {@link #close}, returning the bytes appended that could not be made durable (a write or force
     * failed), 0 when all are: what a graceful stop may not call durable.
     */
    public long shutdown() {
        if (closed) {
            return 0;
        }
        flush();
        closed = true;
        long undurable = 0;
        for (PathState s : files.all()) {
            s.lock.lock();
            try {
                commit.forceLocked(s);
                undurable += s.stagedBytes;
            } catch (IOException e) {
                metrics.diskErrors.incrementAndGet();
                undurable += s.stagedBytes + s.written - s.durableEnd.get();
                log.accept("store: " + s.key + ": cannot force output at close: " + e);
            } finally {
                s.lock.unlock();
            }
            try {
                s.file.close();
            } catch (IOException e) {
                log.accept("store: " + s.key + ": close failed: " + e);
            }
            s.file = null;
            s.closeDirs();
        }
        files.clear();
        PathContainment.closeQuietly(out);
        return undurable;
    }

    // ---------------------------------------------------------------- metrics

    /** Bytes appended to output files by this process. */
    public long bytesWritten() {
        return metrics.bytesWritten;
    }

    /** Bytes appended by this process that have since been forced. */
    public long bytesDurable() {
        return metrics.bytesDurable.get();
    }

    /** Written but not yet forced: what the disk has not caught up with (for the receive window). */
    public long unsyncedBytes() {
        return Math.max(0, metrics.bytesWritten - metrics.bytesDurable.get());
    }

    /** fsync calls (output files, index files and directories counted once per index update). */
    public long forces() {
        return metrics.forces.get();
    }

    /** Failed writes, forces and opens. */
    public long diskErrors() {
        return metrics.diskErrors.get();
    }

    /**
     * Output files whose last force failed (recounted by every {@link #syncDirty} round): nothing more of
     * them becomes durable until it works again. Any thread.
     */
    public int forcesFailing() {
        return metrics.forcesFailing;
    }

    /** STREAM_OPENs refused with BAD_PATH. */
    public long rejectedPaths() {
        return metrics.rejectedPaths;
    }

    public int liveStreams() {
        return metrics.liveStreams;
    }

    public int openFiles() {
        return metrics.openFiles;
    }
}
