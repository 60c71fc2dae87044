package io.tailwire.tools;

import io.tailwire.cli.Cli;
import com.beust.jcommander.Parameter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;

/**
 * bin/loggen: writes numbered access-log lines to a file at a chosen rate, optionally rotating it, to
 * feed shippers. Each line is written with its own write call so a tailer sees it at once.
 */
public final class LogGen {
    public static final String PROGRAM = "loggen";

    public enum RotateMode { rename, copytruncate }

    public static final class Options implements Cli.HasHelp {
        @Parameter(names = {"--out", "-o"}, description = "File to write (rotated files get .1, .2, ... ; .1 is newest)",
            required = true)
        public String out;

        @Parameter(names = "--rate", description = "Lines per second; 0 = as fast as possible")
        public double rate = 0;

        @Parameter(names = "--count", description = "Number of lines to write (0 = no limit; then --duration must be set)")
        public long count = 0;

        @Parameter(names = "--duration", description = "Stop after this many seconds (0 = no limit)")
        public double durationSeconds = 0;

        @Parameter(names = "--first", description = "Number of the first line")
        public long first = 1;

        @Parameter(names = "--seed", description = "Seed for line contents: the same seed gives the same lines")
        public long seed = 1;

        @Parameter(names = "--stamp", description = "Put wall-clock epoch nanoseconds (ts=...) in each line, after seq=")
        public boolean stamp = false;

        @Parameter(names = "--rotate-every", description = "Rotate after every N lines (0 = never)")
        public long rotateEvery = 0;

        @Parameter(names = "--rotate-mode", description = "rename: app.log -> app.log.1 (older ones shift up); "
            + "copytruncate: copy to app.log.1, then truncate app.log in place")
        public RotateMode rotateMode = RotateMode.rename;

        @Parameter(names = "--keep", description = "Rotated files to keep (0 = all)")
        public int keep = 0;

        @Parameter(names = "--batch", description = "Lines per write call (1 = each line reaches the file at once; "
            + "larger only for bulk-throughput runs)")
        public int batch = 1;

        @Parameter(names = "--append", description = "Append to an existing file and keep its rotated files "
            + "(default: truncate it and delete its rotated files app.log.1, .2, ...)")
        public boolean append = false;

        @Parameter(names = "--quiet", description = "No summary line at the end")
        public boolean quiet = false;

        @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
        public boolean help;

        @Override
        public boolean help() {
            return help;
        }
    }

    /** What a run did. */
    public record Result(long lines, long bytes, int rotations, double seconds) {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Options o = new Options();
        try {
            Cli.parse(PROGRAM, o, args, out, err);
            if (o.count < 0 || o.rate < 0 || o.durationSeconds < 0 || o.rotateEvery < 0 || o.keep < 0 || o.first < 0
                || o.batch < 1) {
                throw Cli.usageError(PROGRAM, "--count, --rate, --duration, --rotate-every, --keep, --first must be >= 0, --batch >= 1", err);
            }
            if (o.count == 0 && o.durationSeconds == 0) {
                throw Cli.usageError(PROGRAM, "give --count or --duration (or both)", err);
            }
        } catch (Cli.Exit e) {
            return e.code;
        }
        try {
            Result r = generate(o);
            if (!o.quiet) {
                out.printf("loggen: wrote %d lines (%d bytes) to %s in %.3f s, %d rotations%n",
                    r.lines, r.bytes, o.out, r.seconds, r.rotations);
            }
            return 0;
        } catch (IOException e) {
            err.println(PROGRAM + ": " + e);
            return 1;
        }
    }

    /** Writes the lines; returns when the count or the duration is reached. */
    public static Result generate(Options o) throws IOException {
        Path path = Paths.get(o.out);
        AccessLogLine maker = new AccessLogLine(o.seed);
        if (!o.append) {
            removeRotated(path);
        }
        FileChannel ch = open(path, o.append);
        long start = System.nanoTime();
        long deadline = o.durationSeconds > 0 ? start + (long) (o.durationSeconds * 1e9) : Long.MAX_VALUE;
        double intervalNanos = o.rate > 0 ? 1e9 / o.rate : 0;
        // Lines collect here and go out in one write per --batch lines (default: every line on its own).
        ByteBuffer pending = ByteBuffer.allocate(Math.max(AccessLogLine.MAX_BYTES + 64,
            (int) Math.min(1 << 20, (long) o.batch * AccessLogLine.MAX_BYTES)));
        long written = 0;
        long bytes = 0;
        long inFile = 0;
        int rotations = 0;
        try {
            while (o.count == 0 || written < o.count) {
                if (intervalNanos > 0) {
                    // Schedule from the start time, not from the previous line, so the rate does not drift.
                    long due = start + (long) (written * intervalNanos);
                    long now;
                    while ((now = System.nanoTime()) < due) {
                        LockSupport.parkNanos(Math.min(due - now, deadline - now));
                        if (System.nanoTime() >= deadline) {
                            break;
                        }
                    }
                }
                if (System.nanoTime() >= deadline) {
                    break;
                }
                if (o.rotateEvery > 0 && inFile == o.rotateEvery) {
                    flush(ch, pending);
                    ch = rotate(path, ch, o.rotateMode, o.keep);
                    rotations++;
                    inFile = 0;
                }
                long stamp = -1;
                if (o.stamp) {
                    Instant t = Instant.now();
                    stamp = t.getEpochSecond() * 1_000_000_000L + t.getNano();
                }
                byte[] line = maker.make(o.first + written, stamp);
                if (pending.remaining() < line.length) {
                    flush(ch, pending);
                }
                pending.put(line);
                bytes += line.length;
                written++;
                inFile++;
                if (written % o.batch == 0) {
                    flush(ch, pending);
                }
            }
            flush(ch, pending);
        } finally {
            ch.close();
        }
        return new Result(written, bytes, rotations, (System.nanoTime() - start) / 1e9);
    }

    private static void flush(FileChannel ch, ByteBuffer pending) throws IOException {
        pending.flip();
        while (pending.hasRemaining()) {
            ch.write(pending);
        }
        pending.clear();
    }

    private static FileChannel open(Path path, boolean append) throws IOException {
        if (append) {
            return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        }
        return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** A fresh run starts a fresh set: stale app.log.N from an earlier run would spoil the concatenation. */
    private static void removeRotated(Path path) throws IOException {
        for (int k = 1; Files.exists(rotated(path, k)); k++) {
            Files.delete(rotated(path, k));
        }
    }

    static Path rotated(Path path, int index) {
        return path.resolveSibling(path.getFileName() + "." + index);
    }

    /** Rotates the file; returns the channel to write on afterwards. */
    static FileChannel rotate(Path path, FileChannel ch, RotateMode mode, int keep) throws IOException {
        shiftOlder(path, keep);
        if (mode == RotateMode.rename) {
            ch.close();
            Files.move(path, rotated(path, 1), StandardCopyOption.ATOMIC_MOVE);
            return FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
        // copytruncate, as logrotate does it: copy the bytes out, then cut the live file to zero. The writer
        // keeps its descriptor and goes on writing from offset 0. No line is lost here because this writer
        // is also the one rotating; a real logrotate can lose lines written between copy and truncate.
        ch.force(false);
        Files.copy(path, rotated(path, 1), StandardCopyOption.REPLACE_EXISTING);
        ch.truncate(0);
        ch.position(0);
        return ch;
    }

    /** app.log.k -> app.log.(k+1) for every existing k, newest last; drops those beyond keep. */
    private static void shiftOlder(Path path, int keep) throws IOException {
        int highest = 0;
        while (Files.exists(rotated(path, highest + 1))) {
            highest++;
        }
        for (int k = highest; k >= 1; k--) {
            if (keep > 0 && k >= keep) {
                Files.delete(rotated(path, k));
            } else {
                Files.move(rotated(path, k), rotated(path, k + 1), StandardCopyOption.ATOMIC_MOVE);
            }
        }
    }
}
