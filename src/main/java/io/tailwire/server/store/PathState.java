package io.tailwire.server.store;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsDir;
import io.tailwire.io.FsFile;
import io.tailwire.proto.GenerationEntry;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One loaded path: its open output file, generation entries and write/force progress. The field comments
 * say which thread owns what: most belongs to the engine thread; {@link #written}, {@link #durableEnd} and
 * {@link #dirty} are the hand-off to the writer thread ({@link GroupCommit}); {@link #lock} orders forcing
 * against closing or replacing {@link #file}.
 */
final class PathState {
    final Key key;
    /** OUT/agent_id/.tailwire, open (see {@link PathContainment}); the index is {@link #indexName} in it. */
    final FsDir meta;
    final String indexName;
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
    final ArrayList<GenerationStream> handles = new ArrayList<>(2);
    boolean writeFailing;
    /** Appended bytes not yet written, [written, written + stagedBytes); see {@link StagedWriter#flush()}. */
    ByteBuffer stage;
    int stagedBytes;
    /** In the list {@link StagedWriter#flush()} works through. */
    boolean listed;
    // Writer thread only.
    boolean forceFailing;

    /**
     * The output file: {@link #name} in the open directory {@link #dir}; {@link #target} only for messages.
     * The directories stay open as long as the file (the open-file cache bounds both): reaching the file
     * again never goes through a path someone may have swapped. Also the identity of the file we write
     * (changes when it is moved away).
     */
    final FsDir dir;
    final String name;
    final Path target;
    FileKey fileKey;
    /**
     * Offset in the path's copy of the output file's byte 0: 0 until the operator moves a copy away,
     * then where the new file took over. Offsets here ({@code written}, starts) are copy offsets.
     */
    long base;
    /** Written since the last check that the file is still at its path ({@link MovedCopies#maintain}). */
    boolean unchecked;
    boolean foreignLogged;

    PathState(Key key, FsDir meta, String indexName, FsDir dir, String name, FsFile file, FileKey fileKey,
              long base, long length) {
        this.key = key;
        this.meta = meta;
        this.indexName = indexName;
        this.dir = dir;
        this.name = name;
        this.target = dir.path().resolve(name);
        this.file = file;
        this.fileKey = fileKey;
        this.base = base;
        this.written = length;
        this.durableEnd = new AtomicLong(length);
    }

    /** Closes the output file's and the index's directories, once the file is closed for good. */
    void closeDirs() {
        PathContainment.closeQuietly(dir);
        PathContainment.closeQuietly(meta);
    }

    GenerationEntry newest() {
        return entries.isEmpty() ? null : entries.get(entries.size() - 1);
    }
}
