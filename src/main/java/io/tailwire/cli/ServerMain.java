package io.tailwire.cli;

import com.beust.jcommander.Parameter;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.io.RealFs;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.server.OutputStore;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;

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
        Path out = Path.of(o.out).toAbsolutePath().normalize();
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            Cli.fail(PROGRAM, "cannot create output directory " + out + ": " + e.getMessage()
                + " (choose another --out DIR)", 1);
        }
        if (!Files.isWritable(out)) {
            Cli.fail(PROGRAM, "output directory " + out + " is not writable (choose another --out DIR)", 1);
        }
        System.exit(run(o, out));
    }

    private static int run(Options o, Path out) {
        Log log = new Log("server");
        OutputStore store;
        try {
            store = new OutputStore(RealFs.INSTANCE, out, OutputStore.Config.DEFAULT, log::warn);
        } catch (IOException e) {
            log.error("cannot open output directory " + out + ": " + e.getMessage());
            return 1;
        }
        ServerEndpointConfig cfg = ServerEndpointConfig.defaults().withMaxConnections(o.maxConnections)
            .withBudget(o.connectionBuffer, (int) Math.min(256 * 1024, o.connectionBuffer))
            .withMaxStreams(o.maxStreams);
        cfg = new ServerEndpointConfig(o.maxDatagram, cfg.maxConnections(), cfg.connectionBudgetBytes(),
            cfg.initialWindow(), cfg.maxStreamsPerConnection(), cfg.idleTimeoutNs(), cfg.keepaliveNs(),
            cfg.maxAckDelayNs(), cfg.tokenValidityNs(), cfg.busyRetryAfterMs(), cfg.appendRetryNs());
        byte[] secret = new byte[32];
        SecureRandom rnd = new SecureRandom();
        rnd.nextBytes(secret);
        ServerEndpoint endpoint = new ServerEndpoint(cfg, secret, rnd.nextLong(), store, new ServerEvents() {
            @Override
            public void onConnected(String agentId, InetSocketAddress from, long connectionId) {
                log.info("agent '" + agentId + "' connected from " + from.getAddress().getHostAddress() + ":"
                    + from.getPort());
            }

            @Override
            public void onStreamOpened(String agentId, String path, long generation, long resumeOffset,
                                       StreamStatus status) {
                if (status == StreamStatus.OK) {
                    log.info(agentId + " " + path + " #" + generation + ": stream "
                        + (resumeOffset == 0 ? "opened" : "resumed at offset " + resumeOffset));
                } else {
                    log.warn(agentId + " " + path + " #" + generation + ": refused (" + status + ")");
                }
            }

            @Override
            public void onClosed(String agentId, long connectionId, CloseCode code) {
                log.info("agent '" + agentId + "' disconnected (" + code + ")");
            }

            @Override
            public void onLossReport(String agentId, String path, long generation, long from, long to,
                                     String reason) {
                log.warn(agentId + " " + path + " #" + generation + ": agent reports bytes " + from + ".." + to
                    + " LOST at the source (" + reason + ")");
            }
        });

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean durableAdvanced = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(1);
        int[] exitCode = {0};
        // Group commit: one thread forces every file written since its last force, as often as the disk
        // allows; each force covers everything the engine wrote meanwhile, however many agents.
        Thread writer = new Thread(() -> {
            while (running.get()) {
                if (store.unsyncedBytes() > 0 && store.syncDirty() > 0) {
                    durableAdvanced.set(true);
                } else {
                    LockSupport.parkNanos(200_000);
                }
            }
        }, "tailwire-writer");
        writer.setDaemon(true);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.set(false);
            try {
                done.await();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().halt(exitCode[0]);
        }, "tailwire-server-shutdown"));

        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 8 << 20);
            ch.setOption(StandardSocketOptions.SO_SNDBUF, 8 << 20);
            try {
                ch.bind(o.listen);
            } catch (BindException e) {
                log.error("cannot listen on " + o.listen + ": " + e.getMessage()
                    + " (is another server running? choose another --listen HOST:PORT)");
                exitCode[0] = 1;
                done.countDown();
                return 1;
            }
            ch.configureBlocking(false);
            writer.start();
            log.info("listening on " + o.listen.getAddress().getHostAddress() + ":" + o.listen.getPort()
                + ", writing under " + out);
            ByteBuffer rx = ByteBuffer.allocateDirect(65536);
            ByteBuffer tx = ByteBuffer.allocateDirect(65536);
            UnsafeBuffer rxView = new UnsafeBuffer(rx);
            UnsafeBuffer txView = new UnsafeBuffer(tx);
            BackoffIdleStrategy idle = new BackoffIdleStrategy(50, 10, 1_000, 1_000_000);
            while (running.get()) {
                long now = System.nanoTime();
                int work = 0;
                for (int i = 0; i < 256; i++) {
                    rx.clear();
                    SocketAddress from = ch.receive(rx);
                    if (from == null) {
                        break;
                    }
                    endpoint.onDatagram((InetSocketAddress) from, rxView, 0, rx.position(), now);
                    work++;
                }
                if (durableAdvanced.getAndSet(false)) {
                    endpoint.onDurableAdvanced();
                }
                int len;
                while ((len = endpoint.poll(txView, now)) > 0) {
                    tx.clear().limit(len);
                    ch.send(tx, endpoint.lastDestination());
                    work++;
                }
                if (work > 0) {
                    idle.reset();
                } else {
                    idle.idle();
                }
            }
        } catch (IOException e) {
            log.error("network error: " + e.getMessage());
            exitCode[0] = 1;
        }
        running.set(false);
        try {
            writer.join(2000);
        } catch (InterruptedException ignored) {
            Thread.interrupted();
        }
        // Everything acknowledged is written; make it durable before exiting.
        store.syncDirty();
        store.close();
        log.info("stopped; all received data is durable");
        done.countDown();
        return exitCode[0];
    }
}
