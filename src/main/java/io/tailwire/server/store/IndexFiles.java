package io.tailwire.server.store;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsDir;
import io.tailwire.io.FsFile;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.GenerationEntry;
import io.tailwire.proto.GenerationIndex;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The generation index on disk: one file per path in OUT/agent_id/.tailwire/, named by the path's
 * SHA-256, replaced atomically (wire-spec.md 6). Threads: the engine thread, or the parallel-I/O pool
 * while it loads a path no other thread holds yet.
 */
final class IndexFiles {
    private final StoreMetrics metrics;
    private final Consumer<String> log;

    IndexFiles(StoreMetrics metrics, Consumer<String> log) {
        this.metrics = metrics;
        this.log = log;
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

    GenerationIndex read(FsDir meta, String indexName, String path) throws IOException {
        Path indexPath = meta.path().resolve(indexName);
        FsFile f = meta.openRead(indexName);
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
                throw new IOException("generation index " + indexPath + " belongs to "
                    + OutputPaths.quote(idx.getPath()));
            }
            return idx;
        } finally {
            f.close();
        }
    }

    /** Temp file, force, rename, force directory: the index is either the old one or the new one. */
    void write(PathState s, List<GenerationEntry> entries) throws IOException {
        write(s, entries, s.fileKey, s.base);
    }

    void write(PathState s, List<GenerationEntry> entries, FileKey output, long base) throws IOException {
        byte[] bytes = GenerationIndex.newBuilder().setPath(s.key.path()).addAllGenerations(entries)
            .setOutput(FileIdentity.newBuilder().setDevice(output.device()).setInode(output.inode()))
            .setOutputBase(base).build().toByteArray();
        String tmp = s.indexName + ".tmp";
        // A leftover (or planted) temp file is removed, never opened: opening a link there truncated its
        // target (issue 13 item 10). Created exclusively, so nothing else can be in its place.
        s.meta.delete(tmp);
        FsFile f = s.meta.createNew(tmp);
        try {
            f.write(ByteBuffer.wrap(bytes), 0);
            f.force();
        } finally {
            f.close();
        }
        s.meta.rename(tmp, s.indexName);
        s.meta.force();
        metrics.forces.incrementAndGet();
    }

    /**
     * Generations are recorded only after the output is forced, so no start can lie past the end of
     * the file. If one does anyway (the disk lied), it starts at the end: nothing is written twice.
     */
    void clampStarts(PathState s, long len) throws IOException {
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
            write(s, fixed);
            s.entries = fixed;
        }
    }
}
