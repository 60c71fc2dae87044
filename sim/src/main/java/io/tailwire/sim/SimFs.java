package io.tailwire.sim;

import io.tailwire.io.FileKey;
import io.tailwire.io.Fs;
import io.tailwire.io.FsFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * An in-memory file system for one simulated host, with crash semantics.
 *
 * <p><b>Durability model.</b> Each file has its current content and its durable content (as of its last
 * {@code force()}). The namespace likewise has a current and a durable version:
 * <ul>
 * <li>File content becomes durable only through {@link FsFile#force()}.</li>
 * <li>Creating, renaming and deleting a file change only the current namespace. They become durable when
 * the parent directory is forced ({@link #forceDirectory}): the durable entries of that directory are then
 * replaced by its current entries. A rename across directories therefore needs both directories forced;
 * if only the target is, both names survive a crash (like a hard link), which is what an ordering-unsafe
 * program deserves to see. This is the strict POSIX reading: a program that skips the directory fsync
 * loses the file on a crash even if the file itself was forced.</li>
 * <li>Directories are durable as soon as they are created (programs create them once, at start-up; not
 * worth modelling). Deleting a directory requires it to be empty and is durable at once.</li>
 * <li>{@link #setNamespaceDurableImmediately(boolean)} turns the namespace rule off (every namespace change
 * durable at once) for tests that only care about file content.</li>
 * </ul>
 * {@link #crash()} puts the current state back to the durable one and invalidates every open handle
 * (they belonged to processes that died with the host). {@link #crash(SimRandom)} additionally lets a
 * random prefix of each file's unforced appended bytes survive, as a real page cache may have written
 * some of them back.
 *
 * <p><b>Space.</b> Used space is the sum of current sizes of files that have a name or an open handle
 * (delete-while-open keeps the space until the last close, as POSIX). A write that would push it beyond
 * the capacity fails whole with an IOException saying "No space left on device"; nothing is written.
 *
 * <p><b>Keys.</b> FileKey(device, inode), inode unique per created file and directory. Inode numbers are
 * never reused unless {@link #setReuseInodes(boolean)} is on; then the lowest free number is taken, so a
 * new file can get the key a deleted one had (the rotation hazard a tailer must survive).
 *
 * <p>Paths are compared after {@code normalize()}; no symbolic links. Renaming directories is not
 * supported. Single-threaded like the rest of the simulator.
 */
public final class SimFs implements Fs {
    static final String ENOSPC = "No space left on device";

    private static final class Node {
        final long ino;
        final boolean dir;
        byte[] data = new byte[0];
        int size;
        byte[] durable = new byte[0];
        int links;
        int opens;
        boolean dead;

        Node(long ino, boolean dir) {
            this.ino = ino;
            this.dir = dir;
        }

        boolean live() {
            return links > 0 || opens > 0;
        }
    }

    private final long device;
    private long capacity = Long.MAX_VALUE;
    private boolean reuseInodes;
    private boolean namespaceDurableImmediately;

    private final TreeMap<Path, Node> names = new TreeMap<>();
    private TreeMap<Path, Node> durableNames = new TreeMap<>();
    private final Map<Long, Node> inodes = new HashMap<>();
    private final TreeSet<Long> freeInodes = new TreeSet<>();
    private long nextInode = 11; // small numbers look like real reserved ones, nothing more
    private long used;
    private long generation;
    private final Set<Handle> openHandles = new LinkedHashSet<>();

    private long forces;
    private long directoryForces;
    private long crashes;

    public SimFs(long device) {
        this.device = device;
    }

    // ---- configuration and observation ----

    public long device() {
        return device;
    }

    /** Bytes the files may occupy; lowering it below what is used makes only growing writes fail. */
    public void setCapacity(long bytes) {
        this.capacity = bytes;
    }

    public long capacity() {
        return capacity;
    }

    public long usedBytes() {
        return used;
    }

    public long freeBytes() {
        return Math.max(0, capacity - used);
    }

    public void setReuseInodes(boolean reuse) {
        this.reuseInodes = reuse;
    }

    public void setNamespaceDurableImmediately(boolean immediate) {
        this.namespaceDurableImmediately = immediate;
    }

    /** FsFile.force() calls so far (the simulator charges fsync latency per force). */
    public long forceCount() {
        return forces;
    }

    public long forceDirectoryCount() {
        return directoryForces;
    }

    public long crashCount() {
        return crashes;
    }

    public int openHandleCount() {
        return openHandles.size();
    }

    // ---- Fs ----

    @Override
    public FsFile openRead(Path path) throws IOException {
        Path p = norm(path);
        Node n = names.get(p);
        if (n == null) {
            return null;
        }
        if (n.dir) {
            throw new FileSystemException(p.toString(), null, "Is a directory");
        }
        return open(n, false);
    }

    @Override
    public FsFile openWrite(Path path) throws IOException {
        Path p = norm(path);
        Node n = names.get(p);
        if (n == null) {
            requireParent(p);
            n = newNode(false);
            names.put(p, n);
            n.links++;
            namespaceChanged(p);
        } else if (n.dir) {
            throw new FileSystemException(p.toString(), null, "Is a directory");
        }
        return open(n, true);
    }

    @Override
    public FileKey key(Path path) {
        Path p = norm(path);
        if (isRoot(p)) {
            return new FileKey(device, 2);
        }
        Node n = names.get(p);
        return n == null ? null : new FileKey(device, n.ino);
    }

    @Override
    public long size(Path path) {
        Node n = names.get(norm(path));
        if (n == null) {
            return -1;
        }
        return n.dir ? 0 : n.size;
    }

    @Override
    public boolean isDirectory(Path path) {
        Path p = norm(path);
        if (isRoot(p)) {
            return true;
        }
        Node n = names.get(p);
        return n != null && n.dir;
    }

    @Override
    public List<Path> list(Path dir) {
        Path d = norm(dir);
        List<Path> out = new ArrayList<>();
        if (!isDirectory(d)) {
            return out;
        }
        for (Path p : names.keySet()) {
            if (inDir(p, d)) {
                out.add(p);
            }
        }
        return out;
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        Path d = norm(dir);
        if (isRoot(d)) {
            return;
        }
        Path parent = d.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        Node n = names.get(d);
        if (n == null) {
            n = newNode(true);
            n.links++;
            names.put(d, n);
            durableNames.put(d, n);
        } else if (!n.dir) {
            throw new FileAlreadyExistsException(d.toString());
        }
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        Path f = norm(from);
        Path t = norm(to);
        Node n = names.get(f);
        if (n == null) {
            throw new NoSuchFileException(f.toString());
        }
        if (n.dir) {
            throw new FileSystemException(f.toString(), t.toString(), "SimFs does not rename directories");
        }
        if (f.equals(t)) {
            return;
        }
        requireParent(t);
        Node old = names.get(t);
        if (old != null && old.dir) {
            throw new FileSystemException(t.toString(), null, "Is a directory");
        }
        names.remove(f);
        names.put(t, n);
        if (old != null) {
            unlink(old);
        }
        namespaceChanged(f);
        namespaceChanged(t);
    }

    @Override
    public void delete(Path path) throws IOException {
        Path p = norm(path);
        Node n = names.get(p);
        if (n == null) {
            return;
        }
        if (n.dir) {
            if (!list(p).isEmpty()) {
                throw new DirectoryNotEmptyException(p.toString());
            }
            syncDirectory(p); // drops durable children whose deletion was never made durable
            names.remove(p);
            durableNames.remove(p);
            n.links--;
            release(n);
            return;
        }
        names.remove(p);
        unlink(n);
        namespaceChanged(p);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        Path d = norm(dir);
        if (!isDirectory(d)) {
            throw new NoSuchFileException(d.toString());
        }
        directoryForces++;
        syncDirectory(d);
    }

    @Override
    public Path realPath(Path path) {
        return norm(path);
    }

    // ---- crash ----

    /** The host loses power: everything not forced is gone, every open handle is dead. */
    public void crash() {
        crash(null);
    }

    /**
     * Like {@link #crash()}, but if random is not null each file whose current content extends its durable
     * content keeps a random-length prefix of the unforced tail (torn write-back). Files whose unforced
     * changes overwrite forced bytes revert to the durable content.
     */
    public void crash(SimRandom random) {
        crashes++;
        generation++;
        openHandles.clear();
        names.clear();
        names.putAll(durableNames);
        Set<Node> reachable = Collections.newSetFromMap(new IdentityHashMap<>());
        reachable.addAll(names.values());
        used = 0;
        for (Iterator<Node> it = inodes.values().iterator(); it.hasNext();) {
            Node n = it.next();
            n.opens = 0;
            n.links = 0;
            n.dead = false;
            if (!reachable.contains(n)) {
                it.remove();
                if (reuseInodes) {
                    freeInodes.add(n.ino);
                }
                continue;
            }
            if (n.dir) {
                continue;
            }
            byte[] keep = n.durable;
            if (random != null && n.size > keep.length
                && Arrays.equals(n.data, 0, keep.length, keep, 0, keep.length)) {
                int extra = (int) random.nextLong(0, n.size - keep.length + 1L);
                keep = Arrays.copyOf(n.data, keep.length + extra);
                n.durable = keep;
            }
            n.data = keep.clone();
            n.size = keep.length;
        }
        for (Node n : names.values()) {
            n.links++;
        }
        for (Node n : inodes.values()) {
            if (!n.dir) {
                used += n.size;
            }
        }
    }

    // ---- helpers for simulated applications (log writers, rotation) ----

    public boolean exists(Path path) {
        Path p = norm(path);
        return isRoot(p) || names.containsKey(p);
    }

    /** Appends to the file, creating it; not forced. Returns the new size. */
    public long append(Path path, byte[] data) throws IOException {
        try (FsFile f = openWrite(path)) {
            long size = f.size();
            f.write(ByteBuffer.wrap(data), size);
            return size + data.length;
        }
    }

    /** Replaces the file's content (creating it); not forced. */
    public void writeFile(Path path, byte[] data) throws IOException {
        try (FsFile f = openWrite(path)) {
            f.truncate(0);
            f.write(ByteBuffer.wrap(data), 0);
        }
    }

    /** Current content, null if there is no such file. */
    public byte[] readAll(Path path) throws IOException {
        Node n = names.get(norm(path));
        if (n == null) {
            return null;
        }
        if (n.dir) {
            throw new FileSystemException(path.toString(), null, "Is a directory");
        }
        return Arrays.copyOf(n.data, n.size);
    }

    /** Content as of the file's last force (what a crash would leave if its name survives); null if absent. */
    public byte[] readDurable(Path path) {
        Node n = names.get(norm(path));
        return n == null || n.dir ? null : n.durable.clone();
    }

    public void truncate(Path path, long size) throws IOException {
        try (FsFile f = openWrite(path)) {
            f.truncate(size);
        }
    }

    /** Copies the current content of from into a new file (replacing) at to; not forced. */
    public void copy(Path from, Path to) throws IOException {
        byte[] content = readAll(from);
        if (content == null) {
            throw new NoSuchFileException(from.toString());
        }
        writeFile(to, content);
    }

    /**
     * logrotate's copytruncate: copy to rotated, then truncate the original in place (same key). Done as
     * one step here; to model lines written between the two, call copy and truncate at different times.
     */
    public void copyTruncate(Path original, Path rotated) throws IOException {
        copy(original, rotated);
        truncate(original, 0);
    }

    /**
     * An Fs view for one process on this host: handles opened through it are closed together by
     * {@link ProcessView#kill()} (kill -9 closes descriptors but loses no data).
     */
    public ProcessView process(String name) {
        return new ProcessView(name);
    }

    public final class ProcessView implements Fs {
        private final String name;
        private final Set<Handle> handles = new LinkedHashSet<>();
        private boolean dead;

        ProcessView(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public SimFs fs() {
            return SimFs.this;
        }

        /** Closes every handle this process opened; the view itself stays usable for nothing. */
        public void kill() {
            dead = true;
            for (Handle h : new ArrayList<>(handles)) {
                h.closeQuietly();
            }
            handles.clear();
        }

        private void alive() throws IOException {
            if (dead) {
                throw new IOException("process " + name + " was killed");
            }
        }

        private FsFile track(FsFile f) {
            if (f != null) {
                Handle h = (Handle) f;
                h.owner = this;
                handles.add(h);
            }
            return f;
        }

        @Override
        public FsFile openRead(Path path) throws IOException {
            alive();
            return track(SimFs.this.openRead(path));
        }

        @Override
        public FsFile openWrite(Path path) throws IOException {
            alive();
            return track(SimFs.this.openWrite(path));
        }

        @Override
        public FileKey key(Path path) throws IOException {
            alive();
            return SimFs.this.key(path);
        }

        @Override
        public long size(Path path) throws IOException {
            alive();
            return SimFs.this.size(path);
        }

        @Override
        public boolean isDirectory(Path path) {
            return SimFs.this.isDirectory(path);
        }

        @Override
        public List<Path> list(Path dir) throws IOException {
            alive();
            return SimFs.this.list(dir);
        }

        @Override
        public void createDirectories(Path dir) throws IOException {
            alive();
            SimFs.this.createDirectories(dir);
        }

        @Override
        public void rename(Path from, Path to) throws IOException {
            alive();
            SimFs.this.rename(from, to);
        }

        @Override
        public void delete(Path path) throws IOException {
            alive();
            SimFs.this.delete(path);
        }

        @Override
        public void forceDirectory(Path dir) throws IOException {
            alive();
            SimFs.this.forceDirectory(dir);
        }

        @Override
        public Path realPath(Path path) throws IOException {
            alive();
            return SimFs.this.realPath(path);
        }
    }

    // ---- internals ----

    private final class Handle implements FsFile {
        private final Node node;
        private final boolean writable;
        private final long gen;
        private boolean closed;
        ProcessView owner;

        Handle(Node node, boolean writable) {
            this.node = node;
            this.writable = writable;
            this.gen = generation;
        }

        private void check() throws IOException {
            if (closed) {
                throw new ClosedChannelException();
            }
            if (gen != generation) {
                throw new IOException("stale handle: the host crashed");
            }
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            check();
            if (position < 0) {
                throw new IllegalArgumentException("negative position");
            }
            if (position >= node.size) {
                return -1;
            }
            int n = (int) Math.min(dst.remaining(), node.size - position);
            dst.put(node.data, (int) position, n);
            return n;
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            check();
            if (!writable) {
                throw new IOException("Bad file descriptor: opened for reading");
            }
            if (position < 0) {
                throw new IllegalArgumentException("negative position");
            }
            int len = src.remaining();
            long end = position + len;
            if (end > Integer.MAX_VALUE - 8) {
                throw new IOException("File too large for SimFs");
            }
            if (end > node.size) {
                long growth = end - node.size;
                if (used + growth > capacity) {
                    throw new IOException(ENOSPC);
                }
                if (end > node.data.length) {
                    node.data = Arrays.copyOf(node.data, (int) Math.max(end, Math.min(Integer.MAX_VALUE - 8,
                        2L * node.data.length)));
                }
                // Bytes past size are kept zero (truncate clears them), so a gap reads as a hole of zeros.
                used += growth;
                node.size = (int) end;
            }
            src.get(node.data, (int) position, len);
        }

        @Override
        public long size() throws IOException {
            check();
            return node.size;
        }

        @Override
        public void truncate(long size) throws IOException {
            check();
            if (!writable) {
                throw new IOException("Bad file descriptor: opened for reading");
            }
            if (size < 0) {
                throw new IllegalArgumentException("negative size");
            }
            if (size < node.size) {
                used -= node.size - size;
                Arrays.fill(node.data, (int) size, node.size, (byte) 0);
                node.size = (int) size;
            }
        }

        @Override
        public void force() throws IOException {
            check();
            forces++;
            node.durable = Arrays.copyOf(node.data, node.size);
        }

        @Override
        public FileKey key() throws IOException {
            check();
            return new FileKey(device, node.ino);
        }

        @Override
        public void close() {
            closeQuietly();
        }

        void closeQuietly() {
            if (closed) {
                return;
            }
            closed = true;
            if (owner != null) {
                owner.handles.remove(this);
            }
            if (gen == generation) {
                openHandles.remove(this);
                node.opens--;
                release(node);
            }
        }
    }

    private FsFile open(Node n, boolean writable) {
        Handle h = new Handle(n, writable);
        n.opens++;
        openHandles.add(h);
        return h;
    }

    private Node newNode(boolean dir) {
        long ino = reuseInodes && !freeInodes.isEmpty() ? freeInodes.pollFirst() : nextInode++;
        Node n = new Node(ino, dir);
        inodes.put(ino, n);
        return n;
    }

    private void unlink(Node n) {
        n.links--;
        release(n);
    }

    /**
     * Called whenever a node may have lost its last reference. A node with no name and no handle gives
     * its space back at once; its current content can never be seen again (only a crash brings back a
     * durable name, with durable content). Its inode number is freed once no durable name refers to it.
     */
    private void release(Node n) {
        if (n.live()) {
            return;
        }
        if (!n.dead) {
            n.dead = true;
            used -= n.size;
            n.data = new byte[0];
            n.size = 0;
        }
        if (inodes.get(n.ino) == n && !durableNames.containsValue(n)) {
            inodes.remove(n.ino);
            if (reuseInodes) {
                freeInodes.add(n.ino);
            }
        }
    }

    /** Durable entries of directory d := its current entries. */
    private void syncDirectory(Path d) {
        List<Node> dropped = new ArrayList<>();
        for (Iterator<Map.Entry<Path, Node>> it = durableNames.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Path, Node> e = it.next();
            if (inDir(e.getKey(), d) && !e.getValue().dir) {
                dropped.add(e.getValue());
                it.remove();
            }
        }
        for (Map.Entry<Path, Node> e : names.entrySet()) {
            if (inDir(e.getKey(), d) && !e.getValue().dir) {
                durableNames.put(e.getKey(), e.getValue());
            }
        }
        for (Node n : dropped) {
            release(n);
        }
    }

    private void namespaceChanged(Path p) {
        if (namespaceDurableImmediately) {
            syncDirectory(parentOf(p));
        }
    }

    private void requireParent(Path p) throws IOException {
        Path parent = parentOf(p);
        if (!isDirectory(parent)) {
            throw new NoSuchFileException(parent.toString(), p.toString(), "parent directory does not exist");
        }
    }

    private static final Path EMPTY = Path.of("");

    private static Path norm(Path p) {
        return Objects.requireNonNull(p, "path").normalize();
    }

    private static boolean isRoot(Path p) {
        return p.getNameCount() == 0 || p.equals(EMPTY);
    }

    private static Path parentOf(Path p) {
        Path parent = p.getParent();
        return parent == null ? EMPTY : parent;
    }

    private static boolean inDir(Path p, Path d) {
        Path parent = parentOf(p);
        return parent.equals(d);
    }
}
