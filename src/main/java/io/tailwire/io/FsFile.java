package io.tailwire.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/** An open file. Positional reads and writes only: no hidden file pointer to get wrong. */
public interface FsFile extends Closeable {
    /** Reads up to dst.remaining() bytes at position; returns bytes read, -1 at end of file. */
    int read(ByteBuffer dst, long position) throws IOException;

    /** Writes all of src at position. */
    void write(ByteBuffer src, long position) throws IOException;

    long size() throws IOException;

    void truncate(long size) throws IOException;

    /** fsync: after it returns, everything written survives a crash. */
    void force() throws IOException;

    /** Key of the open file (stays valid after the path is renamed or deleted). */
    FileKey key() throws IOException;

    @Override
    void close() throws IOException;
}
