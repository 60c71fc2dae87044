package io.tailwire.cli;

import com.beust.jcommander.Parameter;
import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.run.UdpAgent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** bin/udp-agent: tails files and ships them to a Tailwire server. */
public final class AgentMain {
    static final String PROGRAM = "udp-agent";
    private static final Pattern AGENT_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    static final class Options {
        @Parameter(names = "--server", description = "Server address HOST:PORT", converter = HostPort.class)
        InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7070);

        @Parameter(names = "--id", description = "Agent id: names this host's directory on the server "
            + "([A-Za-z0-9._-], at most 64). Default: the host name")
        String id;

        @Parameter(names = "--state", description = "Directory for the agent's state file (positions and "
            + "generations)")
        String state = "tailwire-agent-state";

        @Parameter(names = "--file", description = "A file to tail (absolute or relative path); repeatable")
        List<String> files = new ArrayList<>();

        @Parameter(names = "--glob", description = "A glob of files to tail, e.g. '/var/log/*.log' or "
            + "'/var/log/**/*.log'; files that start matching later are picked up; repeatable")
        List<String> globs = new ArrayList<>();

        @Parameter(names = "--max-datagram", description = "Largest datagram in bytes (1200..65507); 1472 fits a "
            + "1500-byte MTU, loopback and jumbo-frame paths may use more")
        int maxDatagram = 1472;

        @Parameter(names = "--send-buffer", description = "Most payload bytes queued or unacknowledged at once")
        long sendBuffer = 4L << 20;

        @Parameter(names = "--rotate-grace-ms", description = "After a rotation, how long the old file must stay "
            + "unchanged before it is considered finished")
        long rotateGraceMs = 2000;

        @Parameter(names = "--max-rotated-handles", description = "Rotated files kept open until shipped; past "
            + "this the oldest is dropped with an explicit loss report")
        int maxRotatedHandles = 64;

        @Parameter(names = "--poll-min-us", description = "Shortest file poll interval while files are busy (µs)")
        long pollMinMicros = 200;

        @Parameter(names = "--poll-max-ms", description = "Longest file poll interval while idle (ms)")
        long pollMaxMillis = 10;

        @Parameter(names = "--shutdown-timeout-ms", description = "On SIGTERM/SIGINT, how long to wait for the "
            + "server to acknowledge what was sent")
        long shutdownTimeoutMs = 5000;

        @Parameter(names = "--status-interval", description = "Seconds between status lines (0: only when "
            + "behind)")
        int statusInterval = 0;

        @Parameter(names = "--debug", description = "Verbose logging")
        boolean debug;

        @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
        boolean help;
    }

    public static void main(String[] args) {
        Options o = new Options();
        Cli.parse(PROGRAM, o, args, () -> o.help);
        Log.setDebug(o.debug);
        if (o.files.isEmpty() && o.globs.isEmpty()) {
            Cli.fail(PROGRAM, "nothing to tail: give at least one --file PATH or --glob PATTERN (see "
                + PROGRAM + " --help)", Cli.EXIT_USAGE);
        }
        String id = o.id != null ? o.id : defaultId();
        if (!AGENT_ID.matcher(id).matches() || id.equals(".") || id.equals("..")) {
            Cli.fail(PROGRAM, "--id '" + id + "' is not valid: use 1 to 64 of A-Z a-z 0-9 . _ -", Cli.EXIT_USAGE);
        }
        if (o.maxDatagram < 1200 || o.maxDatagram > 65507) {
            Cli.fail(PROGRAM, "--max-datagram " + o.maxDatagram + " is out of range 1200..65507", Cli.EXIT_USAGE);
        }
        List<String> sources = new ArrayList<>();
        for (String f : o.files) {
            sources.add(Path.of(f).toAbsolutePath().normalize().toString());
        }
        for (String g : o.globs) {
            sources.add(g.startsWith("/") ? g : Path.of("").toAbsolutePath() + "/" + g);
        }
        Path stateDir = Path.of(o.state).toAbsolutePath();
        try {
            Files.createDirectories(stateDir);
        } catch (IOException e) {
            Cli.fail(PROGRAM, "cannot create state directory " + stateDir + ": " + Cli.explain(e)
                + " (choose another --state DIR)", 1);
        }
        if (!Files.isWritable(stateDir)) {
            Cli.fail(PROGRAM, "state directory " + stateDir + " is not writable (choose another --state DIR)", 1);
        }
        int code = run(o, id, sources, stateDir);
        System.exit(code);
    }

    static String defaultId() {
        try {
            String h = InetAddress.getLocalHost().getHostName();
            String clean = h.replaceAll("[^A-Za-z0-9._-]", "_");
            return clean.length() > 64 ? clean.substring(0, 64) : clean;
        } catch (IOException e) {
            return "agent";
        }
    }

    private static int run(Options o, String id, List<String> sources, Path stateDir) {
        Log log = new Log("agent");
        AgentConnectionConfig cc = AgentConnectionConfig.defaults(id).withMaxDatagramSize(o.maxDatagram)
            .withSendBufferBytes(Math.max(o.sendBuffer, o.maxDatagram));
        TailerConfig tc = TailerConfig.of(sources).withRotationGraceNanos(o.rotateGraceMs * 1_000_000L)
            .withMaxRotatedHandles(o.maxRotatedHandles);
        PollBackoff poll = new PollBackoff(o.pollMinMicros * 1000L, o.pollMaxMillis * 1_000_000L);
        UdpAgent agent;
        try {
            agent = new UdpAgent(o.server, cc, tc, RealFs.INSTANCE, stateDir, poll, System.nanoTime() ^ id.hashCode(),
                o.statusInterval * 1_000_000_000L, log);
        } catch (IOException e) {
            log.error("cannot start: " + e.getMessage());
            return e instanceof io.tailwire.agent.InstanceIdentity.InUseException ? 2 : 1; // 2: fix --state
        }
        log.info("agent '" + id + "' shipping " + sources + " to " + o.server.getAddress().getHostAddress() + ":"
            + o.server.getPort() + " (state in " + stateDir + ")");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                agent.stop(o.shutdownTimeoutMs * 1_000_000L, o.shutdownTimeoutMs + 5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // A signal's default exit status is 128+n; a clean, acknowledged stop is success.
            Runtime.getRuntime().halt(agent.failure() == null ? 0 : 1);
        }, "tailwire-agent-shutdown"));
        try {
            while (agent.failure() == null) {
                Thread.sleep(1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 1;
    }
}
