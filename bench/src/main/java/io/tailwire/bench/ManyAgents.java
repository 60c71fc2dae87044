package io.tailwire.bench;

import io.tailwire.agent.AgentCore;
import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.log.Log;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.run.UdpAgent;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * N agents against one server. The server is the real udp-server in its own process (so its heap can be
 * measured alone); the agents are N real {@link AgentCore}s in this JVM driven by one thread
 * ({@link AgentFleet}), one UDP socket each, every one tailing its own file of --bytes-per-agent bytes
 * of log lines written before the clock.
 *
 * <p>Reports: aggregate MB/s (all bytes / time from the first agent's start to the last byte visible at
 * the server; output sizes are polled every 20 ms), fairness as min/max of per-agent bytes delivered
 * between the moment every agent's stream is flowing and the moment the first agent's file is complete
 * (-1 if one completed before all were flowing), first and last completion times, and server heap per
 * idle connection: heap used after a full GC (jcmd GC.run, then GC.heap_info) with all N agents
 * connected and idle, minus the same before any agent connected, divided by N.
 *
 * <p>Ends with {@code RESULT many-agents n=.. MBps=.. fairness=.. first_s=.. last_s=.. heap_per_conn_B=..
 * complete=..}.
 */
public final class ManyAgents {
    private static final String USAGE = "ManyAgents --agents 10 [--bytes-per-agent 4m] [--dgram 1472] "
        + "[--send-buffer 256k] [--timeout 300] [--memory-budget 256m]";

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv, USAGE);
        int n = (int) a.size("agents", "10");
        long per = a.size("bytes-per-agent", "4m");
        int dgram = (int) a.size("dgram", "1472");
        long sendBuffer = a.size("send-buffer", "256k");
        long timeoutS = a.size("timeout", "300");
        long memoryBudget = a.size("memory-budget", "256m"); // the server's default
        Path dir = Files.createTempDirectory("tw-many");
        // The agents' state files (each saved with fsyncs before its first byte leaves) go to tmpfs when there
        // is one: 1000 agents on 1000 hosts save in parallel, one load-generating thread would save them one
        // after another and measure its own disk. Their file polls back off to 100 ms (the files are
        // written before the clock; polls only look for growth).
        Path shm = Path.of("/dev/shm");
        Path stateRoot = Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempDirectory(shm, "tw-many-state") : dir;
        ByteArrayOutputStream logs = new ByteArrayOutputStream();
        Log.redirect(new PrintStream(logs, true));
        Process server = null;
        List<AgentCore> agents = new ArrayList<>();
        AgentFleet fleet = null;
        try {
            // Sources: the same log-like content for every agent (the content does not matter for fairness).
            Path src = dir.resolve("src");
            Files.createDirectories(src);
            byte[] content = lines(per);
            for (int i = 0; i < n; i++) {
                Files.write(src.resolve("a" + i + ".log"), content);
            }
            int port;
            try (DatagramSocket s = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            String jar = Path.of(io.tailwire.run.UdpServer.class.getProtectionDomain().getCodeSource().getLocation()
                .toURI()).toString();
            server = new ProcessBuilder("java", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "-cp", jar,
                "io.tailwire.cli.ServerMain", "--listen", "127.0.0.1:" + port, "--out", dir.resolve("out").toString(),
                "--max-connections", String.valueOf(Math.max(n, 10)), "--memory-budget",
                // All N agents come from 127.0.0.1 at once: lift the per-address limits (issue 13 item 2).
                "--max-connections-per-address", String.valueOf(Math.max(n, 10)), "--handshakes-per-second",
                String.valueOf(Math.max(n, 10)),
                String.valueOf(memoryBudget))
                .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
            waitFor(() -> Files.readString(dir.resolve("server.log")).contains("listening"), 30);
            long heap0 = heapUsedAfterGc(server.pid());

            long[] size = new long[n];
            Path[] outs = new Path[n];
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                Path f = src.resolve("a" + i + ".log");
                outs[i] = dir.resolve("out").resolve("a" + i).resolve(f.toString().substring(1));
                agents.add(new AgentCore(
                    AgentConnectionConfig.defaults("a" + i).withMaxDatagramSize(dgram).withSendBufferBytes(sendBuffer),
                    TailerConfig.of(List.of(f.toString())), RealFs.INSTANCE, stateRoot.resolve("state-" + i),
                    new PollBackoff(1_000_000, 100_000_000), i, UdpAgent.listener(new Log("a" + i))));
            }
            fleet = new AgentFleet(agents, new InetSocketAddress("127.0.0.1", port));
            double fairness = -1;
            long allStreaming = -1;
            long[] atAllStreaming = new long[n];
            long firstDone = -1;
            long lastDone = -1;
            long deadline = t0 + TimeUnit.SECONDS.toNanos(timeoutS);
            int done = 0;
            long lastReport = t0;
            // Sizes are polled every 20 ms, or n/10 ms for many agents: polling 1000 files every 20 ms took
            // this thread ~100k syscalls a second, CPU the agents and the server were measured on.
            long pollMs = Math.max(20, n / 10);
            while (done < n && System.nanoTime() < deadline) {
                Thread.sleep(pollMs);
                long now = System.nanoTime();
                done = 0;
                long min = Long.MAX_VALUE;
                long max = 0;
                long total = 0;
                int streaming = 0;
                for (int i = 0; i < n; i++) {
                    if (size[i] < per) {
                        try {
                            size[i] = Files.size(outs[i]);
                        } catch (java.nio.file.NoSuchFileException e) {
                            size[i] = 0;
                        }
                    }
                    done += size[i] >= per ? 1 : 0;
                    streaming += size[i] > 0 ? 1 : 0;
                    min = Math.min(min, size[i] - atAllStreaming[i]);
                    max = Math.max(max, size[i] - atAllStreaming[i]);
                    total += size[i];
                }
                if (allStreaming < 0 && streaming == n && done == 0) {
                    // Shares count from here: before, agents differ by when their stream open was answered.
                    allStreaming = now - t0;
                    System.arraycopy(size, 0, atAllStreaming, 0, n);
                }
                if (done > 0 && firstDone < 0) {
                    firstDone = now - t0;
                    fairness = allStreaming < 0 ? -1 : (double) min / max;
                    if (allStreaming >= 0) {
                        long[] d = new long[n];
                        int stalled = 0;
                        for (int i = 0; i < n; i++) {
                            d[i] = size[i] - atAllStreaming[i];
                            stalled += d[i] == 0 ? 1 : 0;
                        }
                        java.util.Arrays.sort(d);
                        System.err.printf("  bytes per agent while all flowed: min %d, p10 %d, p50 %d, max %d; %d made "
                            + "no progress%n", d[0], d[n / 10], d[n / 2], d[n - 1], stalled);
                    }
                }
                if (now - lastReport > 5_000_000_000L) {
                    System.err.printf("  ... %d agents: %d complete, %d of %d MiB%n", n, done, total >> 20,
                        (n * per) >> 20);
                    lastReport = now;
                }
                if (done == n) {
                    lastDone = now - t0;
                }
            }
            boolean complete = done == n;
            if (fleet.failure() != null) {
                throw new IllegalStateException("agent loop failed", fleet.failure());
            }
            // Idle but connected: let the last ACKs settle, then measure the server's heap.
            Thread.sleep(1000);
            long heapN = heapUsedAfterGc(server.pid());
            double perConn = (double) (heapN - heap0) / n;
            double secs = (complete ? lastDone : System.nanoTime() - t0) / 1e9;
            double mbps = (double) n * per / secs / 1e6;
            System.out.printf("%d agents x %d bytes, datagram %d: %s in %.2f s, %.1f MB/s aggregate; all streaming "
                    + "at %.2f s; first complete at %.2f s; min/max of per-agent bytes delivered in between = %.2f; "
                    + "server heap %d -> %d KiB after GC, %.0f B per idle connection%n", n, per, dgram,
                complete ? "all complete" : done + " complete", secs, mbps, allStreaming / 1e9, firstDone / 1e9,
                fairness, heap0 >> 10, heapN >> 10, perConn);
            System.out.printf("RESULT many-agents n=%d MBps=%.1f fairness=%.2f streaming_s=%.2f first_s=%.2f last_s=%.2f "
                    + "heap_per_conn_B=%.0f complete=%s%n", n, mbps, fairness, allStreaming / 1e9, firstDone / 1e9, secs,
                perConn, complete ? "yes" : done + "/" + n);
        } finally {
            if (fleet != null) {
                fleet.close();
            }
            if (server != null) {
                server.destroy();
                server.waitFor(10, TimeUnit.SECONDS);
            }
            for (Path root : new Path[] {dir, stateRoot}) {
                try (var s = Files.walk(root)) {
                    s.sorted((x, y) -> y.compareTo(x)).forEach(p -> p.toFile().delete());
                }
            }
        }
        System.exit(0);
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitFor(Check c, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!c.ok()) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("timed out waiting");
            }
            Thread.sleep(50);
        }
    }

    private static final Pattern USED = Pattern.compile("used (\\d+)K");

    /** jcmd GC.run (twice, to settle), then the "used NK" of GC.heap_info. */
    static long heapUsedAfterGc(long pid) throws Exception {
        jcmd(pid, "GC.run");
        jcmd(pid, "GC.run");
        String info = jcmd(pid, "GC.heap_info");
        Matcher m = USED.matcher(info);
        if (!m.find()) {
            throw new IllegalStateException("cannot parse GC.heap_info: " + info);
        }
        return Long.parseLong(m.group(1)) << 10;
    }

    static String jcmd(long pid, String cmd) throws Exception {
        Process p = new ProcessBuilder("jcmd", String.valueOf(pid), cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    /** Log-like lines of 100..300 bytes, exactly {@code bytes} long. */
    static byte[] lines(long bytes) {
        byte[] b = new byte[(int) bytes];
        SplittableRandom r = new SplittableRandom(7);
        int col = 0;
        int len = 100 + r.nextInt(200);
        for (int i = 0; i < b.length; i++) {
            if (col == len - 1 || i == b.length - 1) {
                b[i] = '\n';
                col = 0;
                len = 100 + r.nextInt(200);
            } else {
                b[i] = (byte) (' ' + 1 + r.nextInt(94));
                col++;
            }
        }
        return b;
    }
}
