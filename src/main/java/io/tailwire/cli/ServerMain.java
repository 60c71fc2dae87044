package io.tailwire.cli;

import static io.tailwire.io.Units.NANOS_PER_SECOND;

import com.beust.jcommander.Parameter;
import io.tailwire.config.Configuration;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.io.RealFs;
import io.tailwire.log.Log;
import io.tailwire.run.UdpServer;
import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.status.ServerStatus;
import io.tailwire.server.store.OutputStore;
import io.tailwire.wire.Wire;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/** bin/udp-server: receives log streams from agents and writes exact copies under --out. */
public final class ServerMain {
    static final String PROGRAM = "udp-server";

    /** Defaults are in {@link Configuration}. */

    static final long MAX_LINGER_S = 86_400 * 7;

    static final class Options {
        @Parameter(names = "--listen", description = "UDP address to listen on, HOST:PORT (port 0: any free port). "
            + "A wildcard host (0.0.0.0 or [::]) listens on every local address, each with its own socket, so "
            + "replies leave from the address the agent sent to", converter = HostPort.class)
        InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), Configuration.SERVER_PORT);

        @Parameter(names = "--out", description = "Output directory: OUT/AGENT_ID/<source path>")
        String out = "received";

        @Parameter(names = "--max-connections", description = "Agents connected at once (at least 1); past this "
            + "new ones are told BUSY and retry later")
        int maxConnections = Configuration.MAX_CONNECTIONS;

        @Parameter(names = "--connection-buffer", description = "Receive buffer per connection (reorder buffer "
            + "plus bytes written but not yet durable), at least --max-datagram; the advertised window is what "
            + "is free of it. Size: " + ByteSize.FORMS, converter = ByteSize.class)
        long connectionBuffer = Configuration.CONNECTION_BUFFER_BYTES;

        @Parameter(names = "--max-datagram", description = "Largest datagram accepted, in bytes (1200..65507)")
        int maxDatagram = Configuration.SERVER_MAX_DATAGRAM_BYTES;

        @Parameter(names = "--max-streams", description = "Open streams (file generations) per connection (at "
            + "least 1)")
        int maxStreams = Configuration.MAX_STREAMS_PER_CONNECTION;

        @Parameter(names = "--max-connections-per-address", description = "Connections from one source IP address "
            + "at once (at least 1; many agents behind one NAT share one)")
        int maxConnectionsPerAddress = Configuration.MAX_CONNECTIONS_PER_ADDRESS;

        @Parameter(names = "--handshakes-per-second", description = "New connections per second from one source "
            + "IP address (at least 1)")
        int handshakesPerSecond = Configuration.HANDSHAKES_PER_SECOND_PER_ADDRESS;

        @Parameter(names = "--memory-budget", description = "Receive buffer memory shared by all connections, at "
            + "least --max-datagram: each sending connection gets at most this divided by the number of sending "
            + "connections. Size: " + ByteSize.FORMS, converter = ByteSize.class)
        long memoryBudget = Configuration.MEMORY_BUDGET_BYTES;

        @Parameter(names = "--admin", description = "Admin HTTP endpoint HOST:PORT (GET/POST /throttle, GET /metrics, "
            + "GET /status, GET /health, GET /ready); off unless given; no authentication, bind it to a trusted interface (a bind off loopback "
            + "is warned about); requests must name it in Host, come from no other Origin, and carry no body",
            converter = HostPort.class)
        InetSocketAddress admin;

        @Parameter(names = "--throttle", description = "Initial server-wide ingest limit in bytes per second "
            + "(-1: unlimited, i.e. off; 0: paused); change it at run time with POST /throttle. Size: "
            + ByteSize.FORMS, converter = ByteSize.class)
        long throttle = IngestThrottle.UNLIMITED;

        @Parameter(names = "--agent-linger-s", description = "How long a disconnected agent stays in /status and "
            + "/metrics (marked disconnected) before its series are removed, in seconds (0.." + MAX_LINGER_S
            + "; 0: removed at the next publish)")
        long agentLingerS = Configuration.DISCONNECTED_AGENT_LINGER_NS / NANOS_PER_SECOND;

        @Parameter(names = "--debug", description = "Debug logging: every connection's and stream's events "
            + "(datagrams refused, windows, closes with their reasons)")
        boolean debug;

        @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
        boolean help;
    }

    /** Parses and checks the flags; on --help, --version or a bad flag prints and throws Exit (0 or 2). */
    static ServerEndpointConfig endpointConfig(Options o) {
        return UdpServer.config(o.maxDatagram, o.maxConnections, o.connectionBuffer, o.maxStreams);
    }

    static Options parse(String[] args, PrintStream out, PrintStream err) throws Cli.Exit {
        Options o = new Options();
        Cli.parse(PROGRAM, o, args, () -> o.help, out, err);
        Cli.require(o.maxDatagram >= Wire.MIN_MAX_DATAGRAM && o.maxDatagram <= Wire.MAX_MAX_DATAGRAM, PROGRAM,
            "--max-datagram " + o.maxDatagram + " is out of range " + Wire.MIN_MAX_DATAGRAM + ".."
                + Wire.MAX_MAX_DATAGRAM, err);
        Cli.require(o.maxConnections >= 1, PROGRAM, "--max-connections must be at least 1", err);
        Cli.require(o.maxStreams >= 1, PROGRAM, "--max-streams must be at least 1", err);
        Cli.require(o.maxConnectionsPerAddress >= 1, PROGRAM, "--max-connections-per-address must be at least 1", err);
        Cli.require(o.handshakesPerSecond >= 1, PROGRAM, "--handshakes-per-second must be at least 1", err);
        Cli.require(o.connectionBuffer >= o.maxDatagram, PROGRAM, "--connection-buffer must be at least one "
            + "datagram (--max-datagram, " + o.maxDatagram + " bytes)", err);
        Cli.require(o.memoryBudget >= o.maxDatagram, PROGRAM, "--memory-budget must be at least one datagram "
            + "(--max-datagram, " + o.maxDatagram + " bytes)", err);
        Cli.require(o.throttle >= IngestThrottle.UNLIMITED && o.throttle <= IngestThrottle.MAX_RATE, PROGRAM,
            "--throttle must be -1 (unlimited), 0 (paused) or 1.." + IngestThrottle.MAX_RATE + " bytes per second",
            err);
        Cli.require(o.agentLingerS >= 0 && o.agentLingerS <= MAX_LINGER_S, PROGRAM, "--agent-linger-s must be 0.."
            + MAX_LINGER_S, err);
        Cli.require(!o.out.isBlank(), PROGRAM, "--out must name a directory", err);
        return o;
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args, System.out, System.err);
        } catch (Cli.Exit e) {
            System.exit(e.code);
            return;
        }
        Log.setDebug(o.debug);
        Path out = Path.of(o.out).toAbsolutePath().normalize();
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            Cli.fail(PROGRAM, "cannot create output directory " + out + ": " + Cli.explain(e)
                + " (choose another --out DIR)", 1);
        }
        if (!Files.isWritable(out)) {
            Cli.fail(PROGRAM, "output directory " + out + " is not writable (choose another --out DIR)", 1);
        }
        System.exit(run(o, out));
    }

    private static int run(Options o, Path out) {
        Log log = new Log("server");
        UdpServer server;
        IngestThrottle throttle = new IngestThrottle();
        throttle.setGlobal(o.throttle);
        try {
            server = new UdpServer(o.listen, out, RealFs.INSTANCE,
                endpointConfig(o),
                OutputStore.Config.DEFAULT, log, throttle, o.memoryBudget);
        } catch (IOException e) {
            log.error(e.getMessage());
            return 1;
        }
        server.status().setDisconnectedLingerNs(o.agentLingerS * 1_000_000_000L);
        server.endpoint().setSourceLimits(o.maxConnectionsPerAddress, o.handshakesPerSecond);
        if (o.admin != null) {
            String exposed = io.tailwire.server.admin.AdminServer.exposureWarning(o.admin);
            if (exposed != null) {
                log.warn(exposed);
            }
            try {
                server.startAdmin(o.admin);
            } catch (IOException e) {
                server.close();
                Cli.fail(PROGRAM, e.getMessage(), 1);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            Runtime.getRuntime().halt(server.failure() == null ? 0 : 1);
        }, "tailwire-server-shutdown"));
        try {
            while (server.running()) {
                Thread.sleep(1000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
        return 1;
    }
}
