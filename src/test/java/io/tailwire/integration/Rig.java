package io.tailwire.integration;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.fail;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.log.Log;
import io.tailwire.run.UdpAgent;
import io.tailwire.run.UdpServer;
import io.tailwire.server.store.OutputStore;
import io.tailwire.tools.AccessLogLine;
import io.tailwire.tools.LogCheck;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A loopback test bench: real {@link UdpServer}s and {@link UdpAgent}s (real sockets, real threads, real
 * files) under one temporary directory, plus the bounded wait that compares outputs with what the writers
 * wrote. Every log line of the runners is captured and the tail is put in failure messages.
 *
 * <p>Agents use short timings so the suite stays fast: rotation grace 200 ms, file polls between 0.2 and
 * 20 ms, glob discovery every 50 ms, keepalive 1 s (so an idle agent learns of a restarted server within a
 * second, through RESET). Everything else is the shipped default.
 */
final class Rig implements AutoCloseable {
    static final long ROTATION_GRACE_NS = 200 * NANOS_PER_MILLI;
    static final long WAIT_NS = 30_000 * NANOS_PER_MILLI;
    static final long POLL_MS = 20;

    final Path root;
    final Path out;
    final Path logs;
    final Path states;
    final long seed;
    private final List<UdpServer> servers = new ArrayList<>();
    private final List<UdpAgent> agents = new ArrayList<>();
    private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
    private final PrintStream logStream = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
    private long agentSeeds;

    Rig(Path root, long seed) throws IOException {
        this.root = root;
        this.out = Files.createDirectories(root.resolve("out"));
        this.logs = Files.createDirectories(root.resolve("logs"));
        this.states = Files.createDirectories(root.resolve("state"));
        this.seed = seed;
        this.agentSeeds = seed;
        Log.redirect(logStream);
    }

    // ------------------------------------------------------------------------------- runners

    UdpServer server() throws IOException {
        return server(0);
    }

    /** A server on 127.0.0.1:port (0: any free port) writing under {@link #out}, configured as the command's defaults. */
    UdpServer server(int port) throws IOException {
        UdpServer s = new UdpServer(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), out, RealFs.INSTANCE,
            UdpServer.config(65507, 10_000, 4L << 20, 4096), OutputStore.Config.DEFAULT, new Log("server"),
            new io.tailwire.server.limit.IngestThrottle(), io.tailwire.config.Configuration.MEMORY_BUDGET_BYTES,
            (thread, cause) -> { }); // in-JVM: a dead thread shows in failure(), it must not end the test JVM
        servers.add(s);
        return s;
    }

    /**
     * A server on the port a killed one used. Rebinding a just-closed UDP port normally succeeds at once;
     * the retry only covers the close racing the bind on a loaded machine.
     */
    UdpServer restartServer(int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 5_000 * NANOS_PER_MILLI;
        while (true) {
            try {
                return server(port);
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    UdpAgent agent(UdpServer server, String id, String... sources) throws IOException {
        return agent(server.address(), id, sources);
    }

    /** An agent with its state under {@link #states}/id; a second call with the same id is a restart. */
    UdpAgent agent(InetSocketAddress server, String id, String... sources) throws IOException {
        AgentConnectionConfig cc = AgentConnectionConfig.defaults(id)
            .withTimeouts(5_000 * NANOS_PER_MILLI, 30_000 * NANOS_PER_MILLI, 1_000 * NANOS_PER_MILLI);
        TailerConfig tc = TailerConfig.of(List.of(sources)).withRotationGraceNanos(ROTATION_GRACE_NS)
            .withDiscoveryIntervalNanos(50 * NANOS_PER_MILLI);
        Path state = Files.createDirectories(states.resolve(id));
        UdpAgent a = new UdpAgent(server, cc, tc, RealFs.INSTANCE, state, new PollBackoff(200_000L, 20 * NANOS_PER_MILLI),
            agentSeeds++, 0, new Log("agent " + id));
        agents.add(a);
        return a;
    }

    /** OUT/agent_id/&lt;source path without its leading '/'&gt;: where wire-spec.md 6.2 puts a source's copy. */
    Path output(String agentId, Path source) {
        String abs = source.toAbsolutePath().toString();
        return out.resolve(agentId).resolve(abs.substring(1));
    }

    Path logDir(String name) throws IOException {
        return Files.createDirectories(logs.resolve(name));
    }

    @Override
    public void close() {
        for (UdpAgent a : agents) {
            try {
                a.kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (UdpServer s : servers) {
            s.kill();
        }
        Log.redirect(System.err);
    }

    /** The last lines the runners logged, for failure messages. */
    String logTail(int lines) {
        String all = logBytes.toString(StandardCharsets.UTF_8);
        String[] ls = all.split("\n");
        int from = Math.max(0, ls.length - lines);
        return String.join("\n", Arrays.asList(ls).subList(from, ls.length));
    }

    /** Log lines containing the text (e.g. "LOST"). */
    List<String> logLines(String containing) {
        List<String> r = new ArrayList<>();
        for (String l : logBytes.toString(StandardCharsets.UTF_8).split("\n")) {
            if (l.contains(containing)) {
                r.add(l);
            }
        }
        return r;
    }

    /**
     * Waits until the runners have logged at least n lines containing the text: how a test knows the agent
     * has seen a file event (a new generation) before it changes the file again.
     */
    void awaitLog(String containing, int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_NS;
        while (logLines(containing).size() < n) {
            if (System.nanoTime() > deadline) {
                fail("no " + n + " log line(s) containing '" + containing + "' after " + WAIT_NS / 1_000_000_000L
                    + " s (seed " + seed + ")\n--- runner log (tail) ---\n" + logTail(60));
            }
            Thread.sleep(POLL_MS);
        }
    }

    /** Waits until the file is longer than n bytes (shipping is under way); returns its size. */
    long awaitSizeAbove(Path file, long n) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT_NS;
        while (true) {
            long size = Files.exists(file) ? Files.size(file) : -1;
            if (size > n) {
                return size;
            }
            if (System.nanoTime() > deadline) {
                fail(root.relativize(file) + " did not grow past " + n + " bytes in " + WAIT_NS / 1_000_000_000L
                    + " s (seed " + seed + ")\n--- runner log (tail) ---\n" + logTail(60));
            }
            Thread.sleep(POLL_MS);
        }
    }

    // ------------------------------------------------------------------------------- checking

    /**
     * Waits (at most {@link #WAIT_NS}, polling every {@link #POLL_MS} ms) until every output file holds
     * exactly its expected bytes, then reads them all once more (a late duplicate would show there).
     * On failure names, per file, the first differing byte and the missing, duplicated and out-of-order
     * line numbers (LogCheck), plus the tail of the runners' log.
     */
    void awaitOutputs(Map<Path, byte[]> expected) throws IOException, InterruptedException {
        awaitOutputs(expected, WAIT_NS);
    }

    void awaitOutputs(Map<Path, byte[]> expected, long waitNs) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + waitNs;
        Map<Path, byte[]> pending = new LinkedHashMap<>(expected);
        while (!pending.isEmpty()) {
            pending.entrySet().removeIf(e -> matches(e.getKey(), e.getValue()));
            if (pending.isEmpty() || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(POLL_MS);
        }
        if (pending.isEmpty()) {
            // Everything matched at some instant; a duplicate delivered afterwards would grow a file.
            Thread.sleep(3 * POLL_MS);
            for (Map.Entry<Path, byte[]> e : expected.entrySet()) {
                if (!matches(e.getKey(), e.getValue())) {
                    pending.put(e.getKey(), e.getValue());
                }
            }
        }
        if (!pending.isEmpty()) {
            fail(diagnose(pending, waitNs));
        }
    }

    private static boolean matches(Path output, byte[] want) {
        try {
            if (Files.size(output) != want.length) {
                return false;
            }
            return Arrays.equals(Files.readAllBytes(output), want);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private String diagnose(Map<Path, byte[]> pending, long waitNs) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(pending.size()).append(" of ").append("the awaited output(s) differ from their sources after ")
            .append(waitNs / 1_000_000).append(" ms (seed ").append(seed).append(")\n");
        Path scratch = Files.createDirectories(root.resolve("expected"));
        int shown = 0;
        for (Map.Entry<Path, byte[]> e : pending.entrySet()) {
            if (shown++ == 5) {
                sb.append("... and ").append(pending.size() - 5).append(" more\n");
                break;
            }
            Path outFile = e.getKey();
            byte[] want = e.getValue();
            sb.append("* ").append(root.relativize(outFile)).append(": expected ").append(want.length).append(" bytes, ");
            if (!Files.exists(outFile)) {
                sb.append("output does not exist\n");
                continue;
            }
            sb.append("has ").append(Files.size(outFile)).append('\n');
            Path exp = scratch.resolve("expected-" + shown);
            Files.write(exp, want);
            sb.append("  ").append(LogCheck.compare(exp, outFile).message().replace("\n", "\n  ")).append('\n');
            long[] seqs = seqRange(want);
            if (seqs != null) {
                LogCheck.Report r = LogCheck.check(List.of(outFile), seqs[0], seqs[1]);
                sb.append("  line numbers ").append(seqs[0]).append("..").append(seqs[1]).append(": missing ")
                    .append(r.missing()).append(", duplicated ").append(r.duplicated()).append(", out of order ")
                    .append(r.outOfOrder()).append(", above expected ").append(r.aboveExpect())
                    .append(", malformed ").append(r.malformed()).append('\n');
            }
        }
        sb.append("--- runner log (tail) ---\n").append(logTail(60));
        return sb.toString();
    }

    /** First and last "seq=" numbers of numbered content, or null for other content. */
    static long[] seqRange(byte[] content) {
        String s = new String(content, StandardCharsets.ISO_8859_1);
        if (!s.startsWith(AccessLogLine.SEQ_PREFIX) || !s.endsWith("\n")) {
            return null;
        }
        int lastStart = s.lastIndexOf('\n', s.length() - 2) + 1;
        return new long[] {seqAt(s, 0), seqAt(s, lastStart)};
    }

    private static long seqAt(String s, int at) {
        int from = at + AccessLogLine.SEQ_PREFIX.length();
        int to = s.indexOf(' ', from);
        return Long.parseLong(s.substring(from, to));
    }

    /** Regular files under dir, relative to it, skipping the server's metadata directory. */
    static List<String> filesUnder(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString())
                .filter(p -> !p.startsWith(".tailwire/")).sorted().toList();
        }
    }
}
