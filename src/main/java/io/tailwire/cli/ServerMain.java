package io.tailwire.cli;

import com.beust.jcommander.Parameter;
import io.tailwire.io.RealFs;
import io.tailwire.run.UdpServer;
import io.tailwire.server.OutputStore;
import io.tailwire.server.admin.IngestThrottle;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

/** bin/udp-server: receives log streams from agents and writes exact copies under --out. */
public final class ServerMain {
    static final String PROGRAM = "udp-server";

    static final class Options {
        @Parameter(names = "--listen", description = "UDP address to listen on, HOST:PORT", converter = HostPort.class)
        InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 7070);

        @Parameter(names = "--out", description = "Output directory: OUT/AGENT_ID/<source path>")
        String out = "received";

        @Parameter(names = "--max-connections", description = "Agents connected at once; past this new ones are "
            + "told BUSY and retry later")
        int maxConnections = 10_000;

        @Parameter(names = "--connection-buffer", description = "Receive buffer per connection in bytes (reorder "
            + "buffer plus bytes written but not yet durable); the advertised window is what is free of it")
        long connectionBuffer = 4L << 20;

        @Parameter(names = "--max-datagram", description = "Largest datagram accepted (1200..65507)")
        int maxDatagram = 65507;

        @Parameter(names = "--max-streams", description = "Open streams (file generations) per connection")
        int maxStreams = 4096;

        @Parameter(names = "--memory-budget", description = "Receive buffer memory shared by all connections, "
            + "in bytes: each sending connection gets at most this divided by the number of sending connections")
        long memoryBudget = UdpServer.DEFAULT_MEMORY_BUDGET;

        @Parameter(names = "--admin", description = "Admin HTTP endpoint HOST:PORT (GET/POST /throttle, GET /metrics, "
            + "GET /status); no authentication, bind it to a trusted interface", converter = HostPort.class)
        InetSocketAddress admin;

        @Parameter(names = "--throttle", description = "Initial server-wide ingest limit in bytes per second "
            + "(-1 unlimited, 0 paused); change it at run time with POST /throttle")
        long throttle = -1;

        @Parameter(names = "--debug", description = "Verbose logging")
        boolean debug;

        @Parameter(names = {"--help", "-h"}, help = true, description = "Show this help")
        boolean help;
    }

    public static void main(String[] args) {
        Options o = new Options();
        Cli.parse(PROGRAM, o, args, () -> o.help);
        Log.setDebug(o.debug);
        if (o.maxDatagram < 1200 || o.maxDatagram > 65507) {
            Cli.fail(PROGRAM, "--max-datagram " + o.maxDatagram + " is out of range 1200..65507", Cli.EXIT_USAGE);
        }
        if (o.maxConnections < 1) {
            Cli.fail(PROGRAM, "--max-connections must be at least 1", Cli.EXIT_USAGE);
        }
        if (o.memoryBudget < o.maxDatagram) {
            Cli.fail(PROGRAM, "--memory-budget must be at least one datagram (" + o.maxDatagram + " bytes)",
                Cli.EXIT_USAGE);
        }
        try {
            IngestThrottle.checkRate(o.throttle);
        } catch (IllegalArgumentException e) {
            Cli.fail(PROGRAM, "--throttle: " + e.getMessage(), Cli.EXIT_USAGE);
        }
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
                UdpServer.config(o.maxDatagram, o.maxConnections, o.connectionBuffer, o.maxStreams),
                OutputStore.Config.DEFAULT, log, throttle, o.memoryBudget);
        } catch (IOException e) {
            log.error(e.getMessage());
            return 1;
        }
        if (o.admin != null) {
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
