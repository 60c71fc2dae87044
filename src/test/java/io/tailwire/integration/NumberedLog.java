package io.tailwire.integration;

import io.tailwire.tools.AccessLogLine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * A log writer as applications behave: numbered access-log lines, one write call per line, appended to
 * a path that gets rotated, truncated or deleted under it. It remembers every byte it wrote in order,
 * which is what the server's copy of the path must hold: rename+create and deletion keep every
 * generation whole, and copytruncate and truncation cut only bytes the agent already shipped (tests
 * truncate after the output caught up). Line numbers run on across generations, so LogCheck can name
 * any missing or duplicated line of the copy.
 */
final class NumberedLog {
    final Path path;
    private final AccessLogLine maker;
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private long next;
    private int rotated;
    private FileChannel ch;

    NumberedLog(Path path, long seed) {
        this.path = path;
        this.maker = new AccessLogLine(seed);
        this.next = 1;
    }

    synchronized NumberedLog write(int lines) throws IOException {
        if (ch == null) {
            ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        }
        for (int i = 0; i < lines; i++) {
            byte[] line = maker.make(next++, -1);
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            written.write(line);
        }
        return this;
    }

    /**
     * logrotate's default: the file moves to path.N (N counts up, so older generations keep their names);
     * the writer still holds the moved file until {@link #reopen()} — lines written meanwhile land in the
     * old generation, as with a daemon that reopens its log only on a signal.
     */
    synchronized Path renameAway() throws IOException {
        Path to = path.resolveSibling(path.getFileName() + "." + (++rotated));
        Files.move(path, to, StandardCopyOption.ATOMIC_MOVE);
        return to;
    }

    /** The writer reopens its log: the next write creates a new file at the path. */
    synchronized void reopen() throws IOException {
        if (ch != null) {
            ch.close();
            ch = null;
        }
    }

    /** rename+create in one step. */
    synchronized Path rotate() throws IOException {
        Path to = renameAway();
        reopen();
        return to;
    }

    /** logrotate copytruncate: copy to path.N, cut the live file to zero; the writer keeps appending to it. */
    synchronized Path copyTruncate() throws IOException {
        Path to = path.resolveSibling(path.getFileName() + "." + (++rotated));
        Files.copy(path, to, StandardCopyOption.REPLACE_EXISTING);
        truncate();
        return to;
    }

    /** The file is cut to zero in place (": > app.log"); the writer keeps appending. */
    synchronized void truncate() throws IOException {
        try (FileChannel t = FileChannel.open(path, StandardOpenOption.WRITE)) {
            t.truncate(0);
        }
    }

    /** The path is unlinked while the writer (and the agent) still hold the file open. */
    synchronized void unlink() throws IOException {
        Files.delete(path);
    }

    synchronized void close() throws IOException {
        reopen();
    }

    /** Every byte written so far, in order. */
    synchronized byte[] expected() {
        return written.toByteArray();
    }

    synchronized long lines() {
        return next - 1;
    }
}
