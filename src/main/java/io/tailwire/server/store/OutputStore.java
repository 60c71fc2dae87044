package io.tailwire.server.store;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore;
import io.tailwire.io.FileKey;
import io.tailwire.io.Fs;
import io.tailwire.io.FsFile;
import io.tailwire.wire.Fingerprint;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.GenerationEntry;
import io.tailwire.proto.GenerationIndex;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;
import org.agrona.DirectBuffer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The server's storage: one output file per (agent, source path) under OUT, holding all generations of
 * that path back to back, plus a generation index per path in OUT/agent_id/.tailwire/ (wire-spec.md 6).
 *
 * <p>Threads: {@link #open}, {@link StoredStream#append}, {@link StoredStream#release} and {@link #close}
 * belong to one engine thread. {@link #syncDirty} belongs to one writer thread (group commit).
 * {@link StoredStream#held}, {@link StoredStream#durable} and the metric getters may be read from any
 * thread. Append takes no lock: it writes, publishes the new end in a volatile and queues the file
 * once per sync interval; the writer snapshots that end, forces, then publishes it as durable. A
 * per-file lock only orders forcing against closing (eviction, open), never the data path.
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
        /** Keep maxOpenFiles well below the process's open-file limit (ulimit -n). */
        public static final Config DEFAULT = new Config(1000, 1000, 1024);

        public Config {
            if (maxStreams < 1 || maxOpenFiles < 1 || maxIndexEntries < 1) {
                throw new IllegalArgumentException("limits must be positive");
            }
        }
    }

    static final int MAX_FINGERPRINT = 1024;

    private final Fs fs;
    private final Path out;
    private final Config config;
    private final Consumer<String> log;

    // Engine thread only.
    private final Map<Key, PathState> states = new HashMap<>();
    /** States with no live stream, eldest first: the candidates for closing. */
    private final LinkedHashMap<Key, PathState> idle = new LinkedHashMap<>();
    private ByteBuffer scratch = ByteBuffer.allocateDirect(64 * 1024);
    /**
     * Appends are gathered per file and written by {@link #flush()} with one write per file (the engine
     * flushes once per turn): a write per datagram was a fifth of the server's CPU at 1472-byte datagrams.
     * Stage buffers come from a small pool; a file that finds none writes through.
     */
    static final int STAGE_BYTES = 256 * 1024;
    static final int MAX_STAGES = 16;
    private final ArrayDeque<ByteBuffer> freeStages = new ArrayDeque<>();
    private int stagesAllocated;
    private final ArrayList<PathState> staged = new ArrayList<>();
    private final ByteBuffer fpBuf = ByteBuffer.allocate(MAX_FINGERPRINT);
    private boolean closed;
    private ExecutorService ioExecutor;
    private volatile Runnable onDirty = () -> { };

    // Engine -> writer hand-off: each state is queued at most once (its dirty flag).
    private final ConcurrentLinkedQueue<PathState> dirtyQueue = new ConcurrentLinkedQueue<>();
    // Writer thread only: states whose force failed, retried on the next syncDirty.
    private final ArrayList<PathState> retry = new ArrayList<>();

    // Metrics. Single-writer volatiles are written by the engine thread only.
    private volatile long bytesWritten;
    private volatile long rejectedPaths;
    private volatile int liveStreams;
    private volatile int openFiles;
    private final AtomicLong bytesDurable = new AtomicLong();
    private final AtomicLong forces = new AtomicLong();
    private final AtomicLong diskErrors = new AtomicLong();

    /**
     * @param fs  every file operation goes through it
     * @param out the output directory OUT (created if absent)
     * @param log receives one line per notable event (rejections, disk errors and recoveries); called on
     *            the engine or the writer thread, so it must be thread-safe
     */
    public OutputStore(Fs fs, Path out, Config config, Consumer<String> log) throws IOException {
        this.fs = fs;
        this.out = out;
        this.config = config;
        this.log = log;
        if (!fs.isDirectory(out)) {
            fs.createDirectories(out);
        }
    }

    /**
     * Called on the engine thread when an output file goes from clean to dirty (at most once per file
     * per {@link #syncDirty} round), e.g. to unpark the writer thread. Must be cheap and not block.
     */
    public void onDirty(Runnable listener) {
        this.onDirty = listener;
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
    }

    @Override
    public List<OpenResult> openAll(List<OpenRequest> requests) {
        Map<Key, Future<PathState>> loading = new HashMap<>();
        if (ioExecutor != null && requests.size() > 1 && !closed) {
            int room = config.maxOpenFiles() - openFiles;
            for (OpenRequest r : requests) {
                String path = r.request().getPath();
                if (loading.size() >= room) {
                    break;
                }
                if (OutputPaths.checkAgentId(r.agentId()) != null || OutputPaths.checkSourcePath(path) != null) {
                    continue;
                }
                Key key = new Key(r.agentId(), path);
                if (!states.containsKey(key) && !loading.containsKey(key)) {
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
                left.get().file.close();
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
        if (liveStreams >= config.maxStreams()) {
            return result(StreamStatus.TOO_MANY_STREAMS, 0, 0,
                "server holds " + config.maxStreams() + " streams", null);
        }
        Key key = new Key(agentId, request.getPath());
        PathState s = states.get(key);
        if (s == null) {
            if (openFiles >= config.maxOpenFiles() && !evictOne()) {
                return result(StreamStatus.TOO_MANY_STREAMS, 0, 0,
                    "server has " + config.maxOpenFiles() + " output files in use", null);
            }
            try {
                s = loaded(key, loading);
            } catch (BadPathException e) {
                return reject(agentId, request.getPath(), e.getMessage());
            } catch (InvalidPathException e) {
                // Typically a name the JVM cannot encode: the server must run with a UTF-8 locale.
                return reject(agentId, request.getPath(), "path cannot be represented on this file system");
            } catch (IOException e) {
                return storageError(key, "cannot open output", e);
            }
            states.put(key, s);
            idle.put(key, s);
            openFiles++;
        }
        if (!flushStage(s)) {
            return result(StreamStatus.STORAGE_ERROR, 0, 0, "cannot write output", null);
        }
        try {
            checkMoved(s); // a resume offset must count what the moved-away copy holds, and new bytes go to the path
            return bind(s, request);
        } catch (IOException e) {
            return storageError(key, "cannot open stream", e);
        }
    }

    /**
     * {@link #load}, and for a path without generations also the first generation's index entry: the forces
     * of a brand-new path (directories, file, index) all happen here, in parallel with other paths. The
     * engine thread's {@link #bind} then finds that generation and resumes it at its start, answering
     * exactly what {@link #startGeneration} would have.
     */
    private PathState loadForOpen(Key key, StreamOpen req) throws IOException {
        PathState s = load(key);
        if (s.entries.isEmpty()) {
            try {
                recordGeneration(s, req.getGeneration() == 0 ? 1 : req.getGeneration(), req);
            } catch (IOException | RuntimeException e) {
                s.file.close();
                throw e;
            }
        }
        return s;
    }

    /** The path loaded by {@link #openAll}'s executor if it did, else loaded here. */
    private PathState loaded(Key key, Map<Key, Future<PathState>> loading) throws IOException {
        Future<PathState> f = loading.isEmpty() ? null : loading.remove(key);
        if (f == null) {
            return load(key);
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

    /** Applies wire-spec.md 6.1 to a loaded path. */
    private OpenResult bind(PathState s, StreamOpen req) throws IOException {
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
        forceNow(s); // the resume offset we announce must be durable
        Stream st = attach(s, e.getGeneration(), e.getStart());
        return result(StreamStatus.OK, s.written - e.getStart(), e.getGeneration(), "", st);
    }

    private OpenResult startGeneration(PathState s, long gen, StreamOpen req) throws IOException {
        long start = recordGeneration(s, gen, req);
        for (Stream h : s.handles) {
            if (h.end < 0) {
                h.end = start; // older generation: fixed from now on
            }
        }
        Stream st = attach(s, gen, start);
        return result(StreamStatus.OK, 0, gen, "", st);
    }

    /** Makes the output durable to its end and records generation {@code gen} as starting there. */
    private long recordGeneration(PathState s, long gen, StreamOpen req) throws IOException {
        // Bytes past `written` can only be the remains of a failed write: cut them before they become
        // part of the new generation.
        if (s.base + s.file.size() > s.written) {
            s.file.truncate(s.written - s.base);
            s.file.force();
            forces.incrementAndGet();
        }
        forceNow(s); // the start recorded below must not lie beyond the durable end of the output
        long start = s.written;
        ArrayList<GenerationEntry> next = new ArrayList<>(s.entries);
        GenerationEntry prev = s.newest();
        if (prev != null && !prev.getClosed()) {
            // The new generation closes the previous one where it stands, in the same index write.
            next.set(next.size() - 1, prev.toBuilder().setClosed(true).setFinalLength(start - prev.getStart()).build());
        }
        next.add(GenerationEntry.newBuilder().setGeneration(gen).setIdentity(req.getIdentity())
            .setStart(start).build());
        while (next.size() > config.maxIndexEntries()) {
            next.remove(0);
        }
        writeIndex(s, next);
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

    private Stream attach(PathState s, long gen, long start) {
        Stream st = new Stream(s, gen, start);
        s.handles.add(st);
        if (s.handles.size() == 1) {
            idle.remove(s.key);
        }
        liveStreams++;
        return st;
    }

    private OpenResult reject(String agentId, String path, String why) {
        rejectedPaths++;
        log.accept("store: refused path " + quote(path) + " from agent " + quote(agentId) + ": " + why);
        return result(StreamStatus.BAD_PATH, 0, 0, why, null);
    }

    private OpenResult storageError(Key key, String what, IOException e) {
        diskErrors.incrementAndGet();
        log.accept("store: " + key + ": " + what + ": " + e);
        return result(StreamStatus.STORAGE_ERROR, 0, 0, what + ": " + e.getMessage(), null);
    }

    private static OpenResult result(StreamStatus status, long resume, long gen, String msg, StoredStream st) {
        return new OpenResult(status, resume, gen, msg, st);
    }

    // ---------------------------------------------------------------- loading a path

    private static final class BadPathException extends IOException {
        BadPathException(String message) {
            super(message);
        }
    }

    /** Validates the path against the disk, creates directories, opens the output, reads the index. */
    private PathState load(Key key) throws IOException {
        Path agentDir = out.resolve(key.agentId);
        ensureDir(agentDir, out);
        Path agentReal = fs.realPath(agentDir);
        Path target = OutputPaths.outputFile(agentDir, key.path);
        Path parent = target.getParent();

        // Deepest existing directory: it must already resolve inside OUT/agent_id, before we create anything.
        Path existing = parent;
        while (!existing.equals(agentDir) && !fs.isDirectory(existing)) {
            existing = existing.getParent();
        }
        if (!fs.realPath(existing).startsWith(agentReal)) {
            throw new BadPathException("path resolves outside the agent's output directory");
        }
        List<Path> missing = new ArrayList<>();
        for (Path p = parent; !p.equals(existing); p = p.getParent()) {
            missing.add(0, p);
        }
        for (Path dir : missing) {
            if (existsNoFollow(dir)) {
                if (fs.isDirectory(dir)) {
                    continue; // made meanwhile by a parallel open of the same batch (checked below like any)
                }
                throw new BadPathException("path conflicts with an existing file");
            }
            fs.createDirectories(dir);
            fs.forceDirectory(dir.getParent());
        }
        if (!fs.realPath(parent).startsWith(agentReal)) {
            throw new BadPathException("path resolves outside the agent's output directory");
        }
        if (fs.isDirectory(target)) {
            throw new BadPathException("path conflicts with an existing directory");
        }
        boolean existed = fs.key(target) != null;
        if (existed) {
            if (!fs.realPath(target).startsWith(agentReal)) {
                throw new BadPathException("path resolves outside the agent's output directory");
            }
        } else if (existsNoFollow(target)) {
            // A name that is listed but cannot be followed is a dangling symbolic link: opening it
            // would create its target, wherever that is.
            throw new BadPathException("path is a dangling symbolic link");
        }

        Path metaDir = agentDir.resolve(OutputPaths.META_DIR);
        ensureDir(metaDir, agentDir);
        Path indexPath = metaDir.resolve(indexName(key.path));
        GenerationIndex idx = readIndex(indexPath, key.path);
        List<GenerationEntry> entries = idx.getGenerationsList();

        FsFile file = fs.openWrite(target);
        try {
            if (!existed) {
                fs.forceDirectory(parent);
            }
            // After a restart what the file holds once forced is the truth (wire-spec.md 6.1).
            file.force();
            forces.incrementAndGet();
            long size = file.size();
            FileKey fileKey = file.key();
            long base = 0;
            boolean record = false;
            if (idx.hasOutput()) {
                FileKey recorded = new FileKey(idx.getOutput().getDevice(), idx.getOutput().getInode());
                base = idx.getOutputBase();
                if (!recorded.equals(fileKey)) {
                    base = movedWhileDown(key, target, recorded, base, size, entries);
                    record = true;
                }
            } else {
                record = !entries.isEmpty(); // an index from before output identities: record it now
            }
            PathState s = new PathState(key, metaDir, indexPath, target, file, fileKey, base, base + size);
            s.entries = new ArrayList<>(entries);
            if (record) {
                writeIndex(s, s.entries);
            }
            clampStarts(s, base + size);
            return s;
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * Generations are recorded only after the output is forced, so no start can lie past the end of
     * the file. If one does anyway (the disk lied), it starts at the end: nothing is written twice.
     */
    private void clampStarts(PathState s, long len) throws IOException {
        boolean changed = false;
        ArrayList<GenerationEntry> fixed = new ArrayList<>(s.entries.size());
        for (GenerationEntry e : s.entries) {
            if (e.getStart() > len) {
                log.accept("store: " + s.key + ": index says generation " + e.getGeneration() + " starts at "
                    + e.getStart() + " but the output holds only " + len + " bytes; starting it at the end");
                e = e.toBuilder().setStart(len).build();
                changed = true;
            }
            fixed.add(e);
        }
        if (changed) {
            writeIndex(s, fixed);
            s.entries = fixed;
        }
    }

    private void ensureDir(Path dir, Path parent) throws IOException {
        if (!fs.isDirectory(dir)) {
            fs.createDirectories(dir);
            fs.forceDirectory(parent);
        }
    }

    /** True if anything (even a symbolic link to nowhere) has this name. */
    private boolean existsNoFollow(Path p) throws IOException {
        return fs.key(p) != null || fs.list(p.getParent()).contains(p);
    }

    static String indexName(String path) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(path.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(68);
            for (byte b : h) {
                sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return sb.append(".idx").toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private GenerationIndex readIndex(Path indexPath, String path) throws IOException {
        FsFile f = fs.openRead(indexPath);
        if (f == null) {
            return GenerationIndex.getDefaultInstance();
        }
        try {
            long size = f.size();
            if (size > 64L << 20) {
                throw new IOException("generation index " + indexPath + " is implausibly large");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            long pos = 0;
            while (buf.hasRemaining()) {
                int n = f.read(buf, pos);
                if (n < 0) {
                    break;
                }
                pos += n;
            }
            GenerationIndex idx = GenerationIndex.parseFrom(buf.flip());
            if (!idx.getPath().equals(path)) {
                throw new IOException("generation index " + indexPath + " belongs to " + quote(idx.getPath()));
            }
            return idx;
        } finally {
            f.close();
        }
    }

    /** Temp file, force, rename, force directory: the index is either the old one or the new one. */
    private void writeIndex(PathState s, List<GenerationEntry> entries) throws IOException {
        writeIndex(s, entries, s.fileKey, s.base);
    }

    private void writeIndex(PathState s, List<GenerationEntry> entries, FileKey output, long base)
        throws IOException {
        byte[] bytes = GenerationIndex.newBuilder().setPath(s.key.path).addAllGenerations(entries)
            .setOutput(FileIdentity.newBuilder().setDevice(output.device()).setInode(output.inode()))
            .setOutputBase(base).build().toByteArray();
        Path tmp = s.indexPath.resolveSibling(s.indexPath.getFileName() + ".tmp");
        FsFile f = fs.openWrite(tmp);
        try {
            f.truncate(0);
            f.write(ByteBuffer.wrap(bytes), 0);
            f.force();
        } finally {
            f.close();
        }
        fs.rename(tmp, s.indexPath);
        fs.forceDirectory(s.metaDir);
        forces.incrementAndGet();
    }

    // ---------------------------------------------------------------- the operator moves a copy away

    /** How often output files written meanwhile are checked to still be at their paths (issue 11 item 8). */
    static final long MOVED_CHECK_INTERVAL_NS = 2_000_000_000L;
    private long nextMovedCheckNs;
    private boolean movedCheckStarted;

    /**
     * Engine thread: every {@link #MOVED_CHECK_INTERVAL_NS}, checks that each output file written since the
     * last check is still the file at its path; one moved away (a server-side logrotate) is continued in a
     * new file at the path. A stat per written file every two seconds, never per datagram.
     */
    @Override
    public void maintain(long nowNs) {
        if (movedCheckStarted && nowNs - nextMovedCheckNs < 0) {
            return;
        }
        movedCheckStarted = true;
        nextMovedCheckNs = nowNs + MOVED_CHECK_INTERVAL_NS;
        if (closed) {
            return;
        }
        for (PathState s : states.values()) {
            if (s.unchecked && s.file != null) {
                s.unchecked = false;
                try {
                    checkMoved(s);
                } catch (IOException e) {
                    diskErrors.incrementAndGet();
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
    private void checkMoved(PathState s) throws IOException {
        FileKey atPath = fs.key(s.target);
        if (s.fileKey.equals(atPath)) {
            return;
        }
        if (atPath != null && fs.size(s.target) > 0) {
            // Someone else's file: appending would mix it with ours. Keep writing the moved copy.
            if (!s.foreignLogged) {
                s.foreignLogged = true;
                log.accept("store: " + s.key + ": " + s.target + " now names another file that is not empty;"
                    + " still writing to the moved copy (move that file away to continue at the path)");
            }
            return;
        }
        if (!flushStage(s)) {
            return; // cannot write: the next check tries again
        }
        s.lock.lock();
        try {
            forceLocked(s); // everything the old file got is durable before the index says where it ends
        } finally {
            s.lock.unlock();
        }
        Path movedTo = findByKey(s.target, s.fileKey);
        FsFile nf = fs.openWrite(s.target);
        try {
            fs.forceDirectory(s.target.getParent());
            FileKey nk = nf.key();
            long base = s.written;
            writeIndex(s, s.entries, nk, base);
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
    private long movedWhileDown(Key key, Path target, FileKey recorded, long base, long size,
                                List<GenerationEntry> entries) throws IOException {
        if (size > 0) {
            throw new IOException(target + " is not the server's copy (another, non-empty file);"
                + " move it away and the server continues the copy in a new file");
        }
        Path movedTo = findByKey(target, recorded);
        long end;
        if (movedTo != null) {
            end = base + Math.max(0, fs.size(movedTo));
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

    /** A file beside {@code target} with this key, or null. */
    private Path findByKey(Path target, FileKey k) throws IOException {
        for (Path p : fs.list(target.getParent())) {
            if (!p.equals(target) && k.equals(fs.key(p))) {
                return p;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- closing idle files

    /** Closes the least recently used idle output file; false if every open file has a live stream. */
    private boolean evictOne() {
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
            if (!flushStage(s)) {
                continue;
            }
            s.lock.lock();
            try {
                forceLocked(s);
                closeFile(s);
            } catch (IOException e) {
                diskErrors.incrementAndGet();
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
        openFiles--;
    }

    // ---------------------------------------------------------------- forcing

    /** Engine thread: forces now if anything is unforced. */
    private void forceNow(PathState s) throws IOException {
        s.lock.lock();
        try {
            forceLocked(s);
        } finally {
            s.lock.unlock();
        }
    }

    /** Forces the file if bytes were written since the last force; true if it did. */
    private boolean forceLocked(PathState s) throws IOException {
        FsFile f = s.file;
        if (f == null) {
            return false; // closed while queued: it was clean when closed
        }
        long w = s.written; // snapshot before forcing: only what was written before is durable after
        if (w <= s.durableEnd.get()) {
            return false;
        }
        f.force();
        forces.incrementAndGet();
        long old = s.durableEnd.getAndAccumulate(w, Math::max);
        if (w > old) {
            bytesDurable.addAndGet(w - old);
        }
        return true;
    }

    /**
     * Group commit, for the writer thread (or the simulator): forces every output file written since its
     * last force and advances the durable length of its streams. Files whose force fails stay pending
     * and are retried by the next call. Returns the number of files forced.
     */
    public int syncDirty() {
        ArrayList<PathState> batch = new ArrayList<>(retry);
        retry.clear();
        PathState s;
        while ((s = dirtyQueue.poll()) != null) {
            batch.add(s);
        }
        int[] outcome = new int[batch.size()];
        ExecutorService ex = ioExecutor;
        if (ex != null && batch.size() > 1) {
            // Files forced at the same time share the file system's journal commits: with 1000 agents, one
            // force after another was the whole writer thread and held every agent's window shut.
            ArrayList<Future<Integer>> running = new ArrayList<>(batch.size());
            for (PathState p : batch) {
                running.add(ex.submit(() -> syncOne(p)));
            }
            for (int i = 0; i < outcome.length; i++) {
                outcome[i] = waitFor(running.get(i));
            }
        } else {
            for (int i = 0; i < outcome.length; i++) {
                outcome[i] = syncOne(batch.get(i));
            }
        }
        int forced = 0;
        for (int i = 0; i < outcome.length; i++) {
            if (outcome[i] == RETRY) {
                retry.add(batch.get(i));
            } else {
                forced += outcome[i];
            }
        }
        return forced;
    }

    private static final int RETRY = -1;

    private static int waitFor(Future<Integer> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the force runs on; its result must still be collected
                } catch (ExecutionException e) {
                    throw new IllegalStateException("forcing failed unexpectedly", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Forces one file: 1 if it did, 0 if it had nothing to force, RETRY if the force failed. */
    private int syncOne(PathState s) {
        s.dirty.set(false); // before the snapshot, so an append after it queues the file again
        s.lock.lock();
        try {
            boolean did = forceLocked(s);
            if (s.forceFailing) {
                s.forceFailing = false;
                log.accept("store: " + s.key + ": forcing output works again");
            }
            return did ? 1 : 0;
        } catch (IOException e) {
            diskErrors.incrementAndGet();
            if (!s.forceFailing) {
                s.forceFailing = true;
                log.accept("store: " + s.key + ": cannot force output (will retry): " + e);
            }
            return s.dirty.compareAndSet(false, true) ? RETRY : 0;
        } finally {
            s.lock.unlock();
        }
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
        for (PathState s : states.values()) {
            s.lock.lock();
            try {
                forceLocked(s);
                undurable += s.stagedBytes;
            } catch (IOException e) {
                diskErrors.incrementAndGet();
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
        }
        states.clear();
        idle.clear();
        openFiles = 0;
        return undurable;
    }

    // ---------------------------------------------------------------- metrics

    /** Bytes appended to output files by this process. */
    public long bytesWritten() {
        return bytesWritten;
    }

    /** Bytes appended by this process that have since been forced. */
    public long bytesDurable() {
        return bytesDurable.get();
    }

    /** Written but not yet forced: what the disk has not caught up with (for the receive window). */
    public long unsyncedBytes() {
        return Math.max(0, bytesWritten - bytesDurable.get());
    }

    /** fsync calls (output files, index files and directories counted once per index update). */
    public long forces() {
        return forces.get();
    }

    /** Failed writes, forces and opens. */
    public long diskErrors() {
        return diskErrors.get();
    }

    /** STREAM_OPENs refused with BAD_PATH. */
    public long rejectedPaths() {
        return rejectedPaths;
    }

    public int liveStreams() {
        return liveStreams;
    }

    public int openFiles() {
        return openFiles;
    }

    // ---------------------------------------------------------------- state

    private record Key(String agentId, String path) {
        @Override
        public String toString() {
            return agentId + ":" + quote(path);
        }
    }

    private static final class PathState {
        final Key key;
        final Path metaDir;
        final Path indexPath;
        final ReentrantLock lock = new ReentrantLock();
        final AtomicBoolean dirty = new AtomicBoolean();
        /** Durable end of the output file (absolute offset); advanced only after a force. */
        final AtomicLong durableEnd;
        /** End of the output as written (absolute); single writer: the engine thread. */
        volatile long written;
        /** Set and cleared under the lock on the engine thread; the writer reads it under the lock. */
        FsFile file;
        // Engine thread only.
        ArrayList<GenerationEntry> entries = new ArrayList<>();
        final ArrayList<Stream> handles = new ArrayList<>(2);
        boolean writeFailing;
        /** Appended bytes not yet written, [written, written + stagedBytes); see {@link #flush()}. */
        ByteBuffer stage;
        int stagedBytes;
        /** In {@code staged}, the list {@link #flush()} works through. */
        boolean listed;
        // Writer thread only.
        boolean forceFailing;

        /** The output file's path, and the identity of the file we write (changes when it is moved away). */
        final Path target;
        FileKey fileKey;
        /**
         * Offset in the path's copy of the output file's byte 0: 0 until the operator moves a copy away,
         * then where the new file took over. Offsets here ({@code written}, starts) are copy offsets.
         */
        long base;
        /** Written since the last check that the file is still at its path ({@link #maintain}). */
        boolean unchecked;
        boolean foreignLogged;

        PathState(Key key, Path metaDir, Path indexPath, Path target, FsFile file, FileKey fileKey, long base,
                  long length) {
            this.key = key;
            this.metaDir = metaDir;
            this.indexPath = indexPath;
            this.target = target;
            this.file = file;
            this.fileKey = fileKey;
            this.base = base;
            this.written = length;
            this.durableEnd = new AtomicLong(length);
        }

        GenerationEntry newest() {
            return entries.isEmpty() ? null : entries.get(entries.size() - 1);
        }
    }

    final class Stream implements StoredStream {
        final PathState s;
        final long generation;
        final long start;
        /** Absolute end once a newer generation started; -1 while this is the newest. */
        volatile long end = -1;
        boolean released;
        boolean complained;
        boolean closeFailing;

        Stream(PathState s, long generation, long start) {
            this.s = s;
            this.generation = generation;
            this.start = start;
        }

        OutputStore store() {
            return OutputStore.this;
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
            int n = (int) (length - skip);
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
                return writeThrough(s, src, index + (int) skip, n);
            }
            src.getBytes(index + (int) skip, s.stage, s.stagedBytes, n);
            if (!s.listed) {
                s.listed = true;
                staged.add(s);
            }
            s.stagedBytes += n;
            return true;
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
                writeIndex(s, next);
            } catch (IOException ex) {
                diskErrors.incrementAndGet();
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
            s.handles.remove(this);
            liveStreams--;
            if (s.handles.isEmpty() && s.file != null) {
                idle.put(s.key, s);
            }
        }
    }

    /**
     * Writes everything appended since the last flush, one write per file, and hands the files to the
     * writer thread for forcing. Engine thread. Returns false if some file could not be written: its bytes
     * stay staged (held, never durable) and are retried by the next flush or append.
     */
    @Override
    public boolean flush() {
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
    private boolean flushStage(PathState s) {
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
            diskErrors.incrementAndGet();
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
        bytesWritten += n;
        if (s.writeFailing) {
            s.writeFailing = false;
            log.accept("store: " + s.key + ": writing output works again");
        }
        if (s.dirty.compareAndSet(false, true)) {
            dirtyQueue.offer(s);
            onDirty.run();
        }
        return true;
    }

    private ByteBuffer scratch(int n) {
        if (scratch.capacity() < n) {
            scratch = ByteBuffer.allocateDirect(Math.max(n, scratch.capacity() * 2));
        }
        scratch.clear();
        return scratch;
    }

    private static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        int max = Math.min(s.length(), 200);
        for (int i = 0; i < max; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (s.length() > max) {
            sb.append("...");
        }
        return sb.append('"').toString();
    }
}
