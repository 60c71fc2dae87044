package io.tailwire.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;

/**
 * Plain TCP file copy over loopback between two Java processes: this one reads the source file and writes
 * it to a socket, a receiver process (started first, outside the clock) writes what it reads to the
 * destination file; the clock stops when the receiver says it has written (and, with --fsync, forced) all. What a shipper that
 * simply used TCP would get, for comparison with Tailwire over UDP. Read/write with 64 KiB direct buffers
 * (the way a user-space shipper moves bytes), or --zero-copy true for transferTo/transferFrom.
 *
 * Output ends with: {@code RESULT tcp-copy bytes=.. MBps=.. secs=..}
 */
public final class TcpCopyBaseline {
    private static final String USAGE = "TcpCopyBaseline [--bytes 256m] [--src FILE (default: generated)] "
        + "[--dir DIR (default: temp)] [--zero-copy false] [--fsync false]";

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv, USAGE);
        long bytes = a.size("bytes", "256m");
        boolean zeroCopy = Boolean.parseBoolean(a.get("zero-copy", "false"));
        boolean fsync = Boolean.parseBoolean(a.get("fsync", "false"));
        Path dir = a.get("dir", null) == null ? Files.createTempDirectory("tcpcopy") : Path.of(a.get("dir", null));
        Path src = a.get("src", null) == null ? generate(dir.resolve("src.log"), bytes) : Path.of(a.get("src", null));
        Path dst = dir.resolve("dst.log");
        long size = Files.size(src);

        if (a.get("receive-into", null) != null) {
            receive(Path.of(a.get("receive-into", null)), zeroCopy, fsync);
            return;
        }
        // The receiver is a second JVM, started (and ready) before the clock.
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process receiver = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
            TcpCopyBaseline.class.getName(), "--receive-into", dst.toString(), "--zero-copy", String.valueOf(zeroCopy),
            "--fsync", String.valueOf(fsync)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader fromReceiver = new BufferedReader(new InputStreamReader(receiver.getInputStream(),
                StandardCharsets.UTF_8))) {
            String ready = fromReceiver.readLine();
            if (ready == null || !ready.startsWith("PORT ")) {
                throw new IllegalStateException("receiver did not start: " + ready);
            }
            int port = Integer.parseInt(ready.substring(5).trim());
            long t0 = System.nanoTime();
            try (SocketChannel out = SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
                 FileChannel in = FileChannel.open(src, StandardOpenOption.READ)) {
                if (zeroCopy) {
                    long pos = 0;
                    while (pos < size) {
                        pos += in.transferTo(pos, size - pos, out);
                    }
                } else {
                    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16);
                    while (in.read(buf) >= 0) {
                        buf.flip();
                        while (buf.hasRemaining()) {
                            out.write(buf);
                        }
                        buf.clear();
                    }
                }
            }
            String done = fromReceiver.readLine(); // after the receiver has written (and forced) everything
            long t1 = System.nanoTime();
            if (done == null || !done.startsWith("RECEIVED ")) {
                throw new IllegalStateException("receiver failed: " + done);
            }
            long received = Long.parseLong(done.substring(9).trim());
            if (received != size) {
                throw new IllegalStateException("received " + received + " of " + size + " bytes");
            }
            double secs = (t1 - t0) / 1e9;
            double mbps = size / secs / 1e6;
            System.out.printf("TCP file copy over loopback, 2 processes, %s%s, %d MB: %.1f MB/s (%.3f s)%n",
                zeroCopy ? "transferTo/transferFrom" : "64 KiB read/write", fsync ? " + fsync" : "",
                size / 1_000_000, mbps, secs);
            System.out.printf("RESULT tcp-copy bytes=%d MBps=%.1f secs=%.3f%n", size, mbps, secs);
        } finally {
            receiver.waitFor();
            Files.deleteIfExists(dst);
            if (a.get("src", null) == null) {
                Files.deleteIfExists(src);
            }
            if (a.get("dir", null) == null) {
                Files.deleteIfExists(dir);
            }
        }
    }

    /** The receiving process: prints "PORT n", takes one connection into {@code dst}, prints "RECEIVED n". */
    private static void receive(Path dst, boolean zeroCopy, boolean fsync) throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0));
            System.out.println("PORT " + ((InetSocketAddress) server.getLocalAddress()).getPort());
            System.out.flush();
            long received = 0;
            try (SocketChannel in = server.accept();
                 FileChannel out = FileChannel.open(dst, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
                if (zeroCopy) {
                    long n;
                    while ((n = out.transferFrom(in, received, 1 << 20)) > 0) {
                        received += n;
                    }
                } else {
                    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16);
                    while (in.read(buf) >= 0) {
                        buf.flip();
                        received += out.write(buf);
                        buf.clear();
                    }
                }
                if (fsync) {
                    out.force(true);
                }
            }
            System.out.println("RECEIVED " + received);
            System.out.flush();
        }
    }

    /** A source file of printable log-like bytes (content does not matter to TCP, but keeps it realistic). */
    static Path generate(Path p, long bytes) throws IOException {
        SplittableRandom r = new SplittableRandom(1);
        byte[] chunk = new byte[1 << 20];
        int col = 0;
        for (int i = 0; i < chunk.length; i++) {
            if (col > 100 + r.nextInt(200)) {
                chunk[i] = '\n';
                col = 0;
            } else {
                chunk[i] = (byte) ('a' + r.nextInt(26));
                col++;
            }
        }
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long left = bytes;
            while (left > 0) {
                ByteBuffer b = ByteBuffer.wrap(chunk, 0, (int) Math.min(chunk.length, left));
                while (b.hasRemaining()) {
                    left -= ch.write(b);
                }
            }
        }
        return p;
    }
}
