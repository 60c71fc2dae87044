package io.tailwire.cli;

import static io.tailwire.io.Units.NANOS_PER_MICRO;
import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static io.tailwire.io.Units.NANOS_PER_SECOND;

import com.beust.jcommander.Parameter;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.config.Configuration;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.log.Log;
import io.tailwire.run.UdpAgent;
import io.tailwire.wire.Wire;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** bin/udp-agent: tails files and ships them to a Tailwire server. */
public final class AgentMain {
    static final String PROGRAM = "udp-agent";
    static final class Options {
        @Parameter(names = "--server", description = "Server address HOST:PORT", converter = HostPort.class)
        InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), Configuration.SERVER_PORT);

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
        int maxDatagram = Configuration.AGENT_MAX_DATAGRAM_BYTES;

        @Parameter(names = "--send-buffer", description = "Most payload bytes queued or unacknowledged at once, at "
            + "least --max-datagram. Size: " + ByteSize.FORMS, converter = ByteSize.class)
        long sendBuffer = Configuration.SEND_BUFFER_BYTES;

        @Parameter(names = "--rotate-grace-ms", description = "After a rotation, how long the old file must stay "
            + "unchanged before it is considered finished (0.." + MAX_MS + " ms)")
        long rotateGraceMs = Configuration.ROTATION_GRACE_NS / NANOS_PER_MILLI;

        @Parameter(names = "--max-rotated-handles", description = "Rotated files kept open until shipped (at least "
            + "1); past this the oldest is dropped with an explicit loss report")
        int maxRotatedHandles = Configuration.MAX_ROTATED_HANDLES;

        @Parameter(names = "--poll-min-us", description = "Shortest file poll interval while files are busy (1.."
            + MAX_POLL_MIN_US + " µs)")
        long pollMinMicros = Configuration.POLL_MIN_NS / NANOS_PER_MICRO;

        @Parameter(names = "--poll-max-ms", description = "Longest file poll interval while idle (1.." + MAX_POLL_MAX_MS
            + " ms, and not below --poll-min-us)")
        long pollMaxMillis = Configuration.POLL_MAX_NS / NANOS_PER_MILLI;

        @Parameter(names = "--shutdown-timeout-ms", description = "On SIGTERM/SIGINT, how long to wait for the "
            + "server to acknowledge what was sent (0: do not wait; at most " + MAX_MS + " ms)")
        long shutdownTimeoutMs = Configuration.SHUTDOWN_TIMEOUT_NS / NANOS_PER_MILLI;

        @Parameter(names = "--status-interval", description = "Seconds between status lines (0: off, a line only "
            + "while behind; at most " + MAX_STATUS_INTERVAL_S + ")")
        int statusInterval = 0;

        @Parameter(names = "--admin", description = "Admin HTTP endpoint HOST:PORT (GET /metrics, GET /status, "
            + "GET /health, GET /ready; read-only); off unless given; no authentication, bind it to a trusted "
            + "interface (a bind off loopback is warned about); requests must name it in Host, come from no other "
            + "Origin, and carry no body", converter = HostPort.class)
        InetSocketAddress admin;

        @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
        boolean help;
    }

    /** Defaults are in {@link Configuration}; these bounds are the command line's. */
    /** Upper bounds that keep the conversions to nanoseconds within a long, and mean something. */
    static final long MAX_MS = 86_400_000L;
    static final long MAX_POLL_MIN_US = 1_000_000L;
    static final long MAX_POLL_MAX_MS = 60_000L;
    static final int MAX_STATUS_INTERVAL_S = 86_400;

    /** Parses and checks the flags; on --help, --version or a bad flag prints and throws Exit (0 or 2). */
    static Options parse(String[] args, PrintStream out, PrintStream err) throws Cli.Exit {
        Options o = new Options();
        Cli.parse(PROGRAM, o, args, () -> o.help, out, err);
        Cli.require(!o.files.isEmpty() || !o.globs.isEmpty(), PROGRAM, "nothing to tail: give at least one --file "
            + "PATH or --glob PATTERN", err);
        Cli.require(o.server.getPort() != 0, PROGRAM, "--server port must be 1..65535", err);
        Cli.require(o.id == null || validId(o.id), PROGRAM, "--id '" + o.id + "' is not valid: it must match "
            + Wire.AGENT_ID_RULE, err);
        Cli.require(!o.state.isBlank(), PROGRAM, "--state must name a directory", err);
        Cli.require(o.maxDatagram >= Wire.MIN_MAX_DATAGRAM && o.maxDatagram <= Wire.MAX_MAX_DATAGRAM, PROGRAM,
            "--max-datagram " + o.maxDatagram + " is out of range " + Wire.MIN_MAX_DATAGRAM + ".."
                + Wire.MAX_MAX_DATAGRAM, err);
        Cli.require(o.sendBuffer >= o.maxDatagram, PROGRAM, "--send-buffer must be at least one datagram "
            + "(--max-datagram, " + o.maxDatagram + " bytes)", err);
        Cli.require(o.rotateGraceMs >= 0 && o.rotateGraceMs <= MAX_MS, PROGRAM, "--rotate-grace-ms must be 0.."
            + MAX_MS, err);
        Cli.require(o.maxRotatedHandles >= 1, PROGRAM, "--max-rotated-handles must be at least 1", err);
        Cli.require(o.pollMinMicros >= 1 && o.pollMinMicros <= MAX_POLL_MIN_US, PROGRAM, "--poll-min-us must be 1.."
            + MAX_POLL_MIN_US, err);
        Cli.require(o.pollMaxMillis >= 1 && o.pollMaxMillis <= MAX_POLL_MAX_MS, PROGRAM, "--poll-max-ms must be 1.."
            + MAX_POLL_MAX_MS, err);
        Cli.require(o.pollMaxMillis * 1000 >= o.pollMinMicros, PROGRAM, "--poll-max-ms must not be shorter than "
            + "--poll-min-us", err);
        Cli.require(o.shutdownTimeoutMs >= 0 && o.shutdownTimeoutMs <= MAX_MS, PROGRAM, "--shutdown-timeout-ms must "
            + "be 0.." + MAX_MS, err);
        Cli.require(o.statusInterval >= 0 && o.statusInterval <= MAX_STATUS_INTERVAL_S, PROGRAM, "--status-interval "
            + "must be 0 (off) .." + MAX_STATUS_INTERVAL_S + " seconds", err);
        return o;
    }

    static boolean validId(String id) {
        return Wire.isValidAgentId(id);
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args, System.out, System.err);
        } catch (Cli.Exit e) {
            System.exit(e.code);
            return;
        }
        String id = o.id != null ? o.id : defaultId();
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

    static AgentConnectionConfig connectionConfig(Options o, String id) {
        return AgentConnectionConfig.defaults(id).withMaxDatagramSize(o.maxDatagram).withSendBufferBytes(o.sendBuffer);
    }

    static TailerConfig tailerConfig(Options o, List<String> sources) {
        return TailerConfig.of(sources).withRotationGraceNanos(o.rotateGraceMs * NANOS_PER_MILLI)
            .withMaxRotatedHandles(o.maxRotatedHandles);
    }

    static PollBackoff pollBackoff(Options o) {
        return new PollBackoff(o.pollMinMicros * NANOS_PER_MICRO, o.pollMaxMillis * NANOS_PER_MILLI);
    }

    private static int run(Options o, String id, List<String> sources, Path stateDir) {
        Log log = new Log("agent");
        AgentConnectionConfig cc = connectionConfig(o, id);
        TailerConfig tc = tailerConfig(o, sources);
        PollBackoff poll = pollBackoff(o);
        UdpAgent agent;
        try {
            agent = new UdpAgent(o.server, cc, tc, RealFs.INSTANCE, stateDir, poll, System.nanoTime() ^ id.hashCode(),
                o.statusInterval * NANOS_PER_SECOND, log);
        } catch (IOException e) {
            log.error("cannot start: " + e.getMessage());
            return e instanceof io.tailwire.agent.InstanceIdentity.InUseException ? 2 : 1; // 2: fix --state
        }
        log.info("agent '" + id + "' shipping " + sources + " to " + o.server.getAddress().getHostAddress() + ":"
            + o.server.getPort() + " (state in " + stateDir + ")");
        if (o.admin != null) {
            String exposed = UdpAgent.adminExposureWarning(o.admin);
            if (exposed != null) {
                log.warn(exposed);
            }
            try {
                agent.startAdmin(o.admin);
            } catch (IOException e) {
                try {
                    agent.stop(o.shutdownTimeoutMs * 1_000_000L, o.shutdownTimeoutMs + 5000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
                Cli.fail(PROGRAM, e.getMessage(), 1);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                agent.stop(o.shutdownTimeoutMs * NANOS_PER_MILLI, o.shutdownTimeoutMs + 5000);
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
