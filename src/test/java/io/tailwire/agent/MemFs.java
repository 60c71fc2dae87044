package io.tailwire.agent;

import io.tailwire.io.FileKey;
import io.tailwire.io.Fs;
import io.tailwire.io.FsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small in-memory file system for the agent's tests. It can choose inode numbers (to stage inode
 * reuse), inject a failure after N mutating operations, and {@link #crash()}: afterwards only what was
 * forced survives (file contents by {@link FsFile#force}, directory entries by {@link #forceDirectory}).
 */
final class MemFs implements Fs {
    static final long DEVICE = 7;

    static final class Inode {
        final long ino;
        byte[] data = new byte[0];
        byte[] durable = new byte[0];

        Inode(long ino) {
            this.ino = ino;
        }
    }

    private final Map<Path, Inode> entries = new HashMap<>();
    private final Map<Path, Inode> durableEntries = new HashMap<>();
    private final Set<Path> dirs = new HashSet<>();
    private long nextIno = 100;
    /** Mutating operations left before an injected failure; negative = never fail. */
    int failAfter = -1;

    MemFs() {
        dirs.add(Path.of("/"));
    }

    private void mutate() throws IOException {
        if (failAfter == 0) {
            throw new IOException("injected failure");
        }
        if (failAfter > 0) {
            failAfter--;
        }
    }

    // ---- test helpers (no failure injection)

    void mkdirs(String dir) {
        for (Path p = Path.of(dir); p != null; p = p.getParent()) {
            dirs.add(p);
        }
    }

    /** Creates or replaces the entry with a new file holding {@code bytes}; {@code ino} 0 = next free. */
    Inode create(String path, byte[] bytes, long ino) {
        Inode n = new Inode(ino == 0 ? nextIno++ : ino);
        n.data = bytes.clone();
        n.durable = bytes.clone();
        entries.put(Path.of(path), n);
        durableEntries.put(Path.of(path), n);
        return n;
    }

    void append(String path, byte[] bytes) {
        Inode n = entries.get(Path.of(path));
        int old = n.data.length;
        n.data = Arrays.copyOf(n.data, old + bytes.length);
        System.arraycopy(bytes, 0, n.data, old, bytes.length);
    }

    void truncateTo(String path, int size) {
        Inode n = entries.get(Path.of(path));
        n.data = Arrays.copyOf(n.data, size);
    }

    void move(String from, String to) {
        entries.put(Path.of(to), entries.remove(Path.of(from)));
    }

    void remove(String path) {
        entries.remove(Path.of(path));
    }

    byte[] contents(String path) {
        Inode n = entries.get(Path.of(path));
        return n == null ? null : n.data.clone();
    }

    Set<Path> paths() {
        return new HashSet<>(entries.keySet());
    }

    /** Power loss: unforced data and unforced directory changes vanish. */
    void crash() {
        entries.clear();
        entries.putAll(durableEntries);
        for (Inode n : entries.values()) {
            n.data = n.durable.clone();
        }
        failAfter = -1;
    }

    // ---- Fs

    @Override
    public FsFile openRead(Path path) {
        Inode n = entries.get(path);
        return n == null ? null : new Handle(n);
    }

    @Override
    public FsFile openWrite(Path path) throws IOException {
        if (!dirs.contains(path.getParent())) {
            throw new IOException("no directory " + path.getParent());
        }
        Inode n = entries.get(path);
        if (n == null) {
            mutate();
            n = new Inode(nextIno++);
            entries.put(path, n);
        }
        return new Handle(n);
    }

    @Override
    public FileKey key(Path path) {
        Inode n = entries.get(path);
        return n == null ? null : new FileKey(DEVICE, n.ino);
    }

    @Override
    public long size(Path path) {
        Inode n = entries.get(path);
        return n == null ? -1 : n.data.length;
    }

    @Override
    public boolean isDirectory(Path path) {
        return dirs.contains(path);
    }

    @Override
    public List<Path> list(Path dir) {
        List<Path> out = new ArrayList<>();
        for (Path p : entries.keySet()) {
            if (dir.equals(p.getParent())) {
                out.add(p);
            }
        }
        for (Path p : dirs) {
            if (dir.equals(p.getParent())) {
                out.add(p);
            }
        }
        return out;
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        if (!dirs.contains(dir)) {
            mutate();
            mkdirs(dir.toString());
        }
    }

    @Override
    public void rename(Path from, Path to) throws IOException {
        Inode n = entries.get(from);
        if (n == null) {
            throw new IOException("no such file " + from);
        }
        mutate();
        entries.remove(from);
        entries.put(to, n);
    }

    @Override
    public void delete(Path path) throws IOException {
        mutate();
        entries.remove(path);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        mutate();
        durableEntries.keySet().removeIf(p -> dir.equals(p.getParent()));
        for (Map.Entry<Path, Inode> e : entries.entrySet()) {
            if (dir.equals(e.getKey().getParent())) {
                durableEntries.put(e.getKey(), e.getValue());
            }
        }
    }

    @Override
    public Path realPath(Path path) {
        return path;
    }

    private final class Handle implements FsFile {
        private final Inode n;

        Handle(Inode n) {
            this.n = n;
        }

        @Override
        public int read(ByteBuffer dst, long position) {
            if (position >= n.data.length) {
                return -1;
            }
            int len = (int) Math.min(dst.remaining(), n.data.length - position);
            dst.put(n.data, (int) position, len);
            return len;
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            mutate();
            int end = (int) position + src.remaining();
            if (end > n.data.length) {
                n.data = Arrays.copyOf(n.data, end);
            }
            src.get(n.data, (int) position, src.remaining());
        }

        @Override
        public long size() {
            return n.data.length;
        }

        @Override
        public void truncate(long size) throws IOException {
            mutate();
            if (size < n.data.length) {
                n.data = Arrays.copyOf(n.data, (int) size);
            }
        }

        @Override
        public void force() throws IOException {
            mutate();
            n.durable = n.data.clone();
        }

        @Override
        public FileKey key() {
            return new FileKey(DEVICE, n.ino);
        }

        @Override
        public void close() {
        }
    }
}
