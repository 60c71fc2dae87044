package io.tailwire.bench;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.log.Log;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.run.UdpAgent;
import io.tailwire.run.UdpServer;
import io.tailwire.server.store.OutputStore;
import org.HdrHistogram.Histogram;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * End-to-end latency in one JVM: the real UdpServer and UdpAgent runners on loopback, a writer thread
 * appending fixed-length log lines to the tailed file at a fixed rate, a watcher thread polling the
 * server's output file size and its durable byte count.
 *
 * <p>Every line has an intended append time (start + i / rate). Latency is measured from that time, not
 * from when the writer actually got to it, so a stalled writer or agent does not hide the stall
 * (coordinated omission). Lines are all {@value #LINE} bytes, so "line i is visible" is "the output file
 * is at least (i+1)*LINE bytes", and "durable" is "the store's durable byte count is". The watcher polls
 * every {@code --poll-us} (default 20 µs), which bounds the resolution.
 *
 * <p>Ends with {@code RESULT latency rate=.. vis_p50_us=.. vis_p90_us=.. vis_p99_us=.. vis_p999_us=..
 * vis_max_us=.. dur_p50_us=.. ...}.
 */
public final class LatencyBench {
    static final int LINE = 200;
    private static final String USAGE = "LatencyBench [--rate 10000] [--seconds 10] [--warmup 3] [--dgram 1472] "
        + "[--poll-us 20]";

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv, USAGE);
        long rate = a.size("rate", "10000");
        long seconds = a.size("seconds", "10");
        long warmup = a.size("warmup", "3");
        int dgram = (int) a.size("dgram", "1472");
        long pollNs = a.size("poll-us", "20") * 1000;
        long total = rate * (seconds + warmup);
        long firstMeasured = rate * warmup;

        Path dir = Files.createTempDirectory("tw-latency");
        Path src = dir.resolve("app.log");
        Files.createFile(src);
        // Runner logs go to a buffer: only shown on failure.
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        Log.redirect(new PrintStream(logs, true));
        UdpServer server = new UdpServer(new InetSocketAddress("127.0.0.1", 0), dir.resolve("out"), RealFs.INSTANCE,
            UdpServer.config(65507, 100, 4L << 20, 4096), OutputStore.Config.DEFAULT, new Log("server"));
        // The command line's defaults: 200 µs shortest poll, 10 ms longest.
        UdpAgent agent = new UdpAgent(server.address(),
            AgentConnectionConfig.defaults("lat").withMaxDatagramSize(dgram).withSendBufferBytes(4L << 20),
            TailerConfig.of(List.of(src.toString())), RealFs.INSTANCE, dir.resolve("state"),
            new PollBackoff(200_000, 10_000_000), 1, 0, new Log("agent"));
        Path out = dir.resolve("out").resolve("lat").resolve(src.toString().substring(1));

        long[] intended = new long[(int) total];
        long period = 1_000_000_000L / rate;
        long start = System.nanoTime() + 500_000_000L; // let the agent connect first
        for (int i = 0; i < total; i++) {
            intended[i] = start + i * period;
        }
        // The writer's own lag (written - intended): the scheduling noise of this 2-core machine, the floor
        // under every other figure here. Read only after the writer has finished.
        Histogram written = new Histogram(3_600_000_000_000L, 3);
        Thread writer = new Thread(() -> write(src, intended, written, firstMeasured), "writer");
        writer.setDaemon(true);
        writer.start();

        Histogram visible = new Histogram(3_600_000_000_000L, 3);
        Histogram durable = new Histogram(3_600_000_000_000L, 3);
        long seen = 0;
        long seenDurable = 0;
        long deadline = intended[(int) total - 1] + 30_000_000_000L;
        FileChannel outCh = null;
        while (seen < total || seenDurable < total) {
            long now = System.nanoTime();
            if (now > deadline) {
                System.err.print(logs);
                throw new IllegalStateException("timed out: " + seen + " lines visible, " + seenDurable
                    + " durable of " + total);
            }
            if (outCh == null && Files.exists(out)) {
                outCh = FileChannel.open(out, StandardOpenOption.READ);
            }
            if (outCh != null) {
                long lines = Math.min(total, outCh.size() / LINE);
                for (; seen < lines; seen++) {
                    if (seen >= firstMeasured) {
                        visible.recordValue(Math.max(0, now - intended[(int) seen]));
                    }
                }
            }
            long dl = Math.min(total, server.store().bytesDurable() / LINE);
            for (; seenDurable < dl; seenDurable++) {
                if (seenDurable >= firstMeasured) {
                    durable.recordValue(Math.max(0, now - intended[(int) seenDurable]));
                }
            }
            LockSupport.parkNanos(pollNs);
        }
        if (outCh != null) {
            outCh.close();
        }
        writer.join();
        agent.stop(1_000_000_000L, 3000);
        server.close();
        deleteTree(dir);

        System.out.printf("latency, %d lines/s of %d bytes, %d s measured after %d s warm-up, datagram %d "
                + "(µs, from each line's intended append time):%n", rate, LINE, seconds, warmup, dgram);
        System.out.println("              p50       p90       p99     p99.9       max");
        print("written ", written);
        print("visible ", visible);
        print("durable ", durable);
        System.out.printf("RESULT latency rate=%d vis_p50_us=%.0f vis_p90_us=%.0f vis_p99_us=%.0f vis_p999_us=%.0f "
                + "vis_max_us=%.0f wr_p50_us=%.0f wr_p99_us=%.0f wr_max_us=%.0f dur_p50_us=%.0f dur_p90_us=%.0f dur_p99_us=%.0f dur_p999_us=%.0f dur_max_us=%.0f%n",
            rate, us(visible, 50), us(visible, 90), us(visible, 99), us(visible, 99.9), visible.getMaxValue() / 1e3,
            us(written, 50), us(written, 99), written.getMaxValue() / 1e3,
            us(durable, 50), us(durable, 90), us(durable, 99), us(durable, 99.9), durable.getMaxValue() / 1e3);
        System.exit(0);
    }

    private static double us(Histogram h, double p) {
        return h.getValueAtPercentile(p) / 1e3;
    }

    private static void print(String name, Histogram h) {
        System.out.printf("  %s %9.0f %9.0f %9.0f %9.0f %9.0f%n", name, us(h, 50), us(h, 90), us(h, 99),
            us(h, 99.9), h.getMaxValue() / 1e3);
    }

    /** Appends every line whose intended time has come, in one write when it fell behind. */
    private static void write(Path src, long[] intended, Histogram lag, long firstMeasured) {
        byte[] line = new byte[LINE];
        Arrays.fill(line, (byte) 'x');
        line[LINE - 1] = '\n';
        ByteBuffer buf = ByteBuffer.allocateDirect(LINE * 4096);
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            int i = 0;
            while (i < intended.length) {
                long now = System.nanoTime();
                if (intended[i] > now) {
                    // Park, never spin: on a 2-core machine a spinning writer takes a core from the agent
                    // and server it measures. Waking late is harmless: latency counts from intended time.
                    LockSupport.parkNanos(intended[i] - now);
                    continue;
                }
                buf.clear();
                int first = i;
                while (i < intended.length && intended[i] <= now && buf.remaining() >= LINE) {
                    byte[] num = Integer.toString(i).getBytes();
                    System.arraycopy(num, 0, line, 0, num.length);
                    line[num.length] = ' ';
                    buf.put(line);
                    i++;
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                long done = System.nanoTime();
                for (int k = first; k < i; k++) {
                    if (k >= firstMeasured) {
                        lag.recordValue(Math.max(0, done - intended[k]));
                    }
                }
            }
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void deleteTree(Path dir) throws Exception {
        try (var s = Files.walk(dir)) {
            s.sorted((x, y) -> y.compareTo(x)).forEach(p -> p.toFile().delete());
        }
    }
}
