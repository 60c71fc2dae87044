package io.tailwire.server.store;

import io.tailwire.io.Fs;
import io.tailwire.io.ForwardingFs;
import io.tailwire.io.FsFile;
import io.tailwire.io.RealFs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * RealFs with faults on demand, for tests: writes and forces can fail like a full disk, and
 * {@link #powerLoss()} cuts every file back to the length it had at its last force (data written but
 * not forced is lost). Directory operations are treated as durable at once (not modelled).
 * Forces are recorded, not performed, which keeps tests fast.
 */
final class FaultyFs extends ForwardingFs {
    private final Fs real = RealFs.INSTANCE;

    FaultyFs() {
        super(RealFs.INSTANCE);
    }

    volatile boolean failWrites;
    /** When failing a write, first write this many bytes of it (a partial write). */
    volatile int partialBytes;
    volatile boolean failForces;
    volatile boolean failOpens;
    volatile boolean failTruncates;
    /** Write calls that reached the disk (failed ones included). */
    final java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
    private final Map<Path, Long> forcedSize = new HashMap<>();
    private final List<FsFile> open = new ArrayList<>();

    static IOException noSpace() {
        return new IOException("No space left on device");
    }

    @Override
    public synchronized FsFile openWrite(Path path) throws IOException {
        if (failOpens) {
            throw noSpace();
        }
        long before = real.size(path);
        FsFile f = real.openWrite(path);
        forcedSize.putIfAbsent(path, Math.max(0, before)); // what was there before we came is durable
        Tracked t = new Tracked(f, path);
        open.add(t);
        return t;
    }

    /** Simulated crash of the machine: closes everything and drops unforced data. */
    synchronized void powerLoss() throws IOException {
        for (FsFile f : open) {
            ((Tracked) f).inner().close();
        }
        open.clear();
        for (Map.Entry<Path, Long> e : forcedSize.entrySet()) {
            if (real.size(e.getKey()) > e.getValue()) {
                FsFile f = real.openWrite(e.getKey());
                f.truncate(e.getValue());
                f.close();
            }
        }
    }

    private synchronized void forced(Path path, long size) {
        forcedSize.put(path, size);
    }

    private final class Tracked extends ForwardingFile {
        final Path path;

        Tracked(FsFile inner, Path path) {
            super(inner);
            this.path = path;
        }

        FsFile inner() {
            return f;
        }

        @Override
        public void write(ByteBuffer src, long position) throws IOException {
            writes.incrementAndGet();
            if (failWrites) {
                int n = Math.min(partialBytes, src.remaining());
                if (n > 0) {
                    ByteBuffer part = src.duplicate();
                    part.limit(part.position() + n);
                    f.write(part, position);
                }
                throw noSpace();
            }
            f.write(src, position);
        }

        @Override
        public void truncate(long size) throws IOException {
            if (failTruncates) {
                throw new IOException("Input/output error");
            }
            f.truncate(size);
        }

        @Override
        public void force() throws IOException {
            if (failForces) {
                throw new IOException("Input/output error");
            }
            synchronized (FaultyFs.this) {
                forced(path, f.size());
            }
        }

        @Override
        public void close() throws IOException {
            synchronized (FaultyFs.this) {
                open.remove(this);
            }
            f.close();
        }
    }

    @Override
    public synchronized void rename(Path from, Path to) throws IOException {
        real.rename(from, to);
        Long f = forcedSize.remove(from);
        if (f != null) {
            forcedSize.put(to, f);
        }
    }

    @Override
    public synchronized void delete(Path path) throws IOException {
        real.delete(path);
        forcedSize.remove(path);
    }

    @Override
    public void forceDirectory(Path dir) throws IOException {
        if (failForces) {
            throw new IOException("Input/output error");
        }
    }
}
