package io.tailwire.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.log.Log;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.io.RealFs;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11 item 9: a server listening on 0.0.0.0 is reached through a secondary address. The agent's socket
 * is connected to the address it sends to, so a reply from the kernel's preferred source (127.0.0.1) is
 * dropped; the server must answer from the address the agent used. Needs root to add 127.0.0.2 and 127.0.0.3
 * to lo (so they are enumerable local addresses); they are removed afterwards.
 */
class WildcardListenTest {
    private static final long SEED = 909;
    /** Generous: only bounds how long a broken server makes the test wait. */
    private static final long AWAIT_MS = 60_000;

    private final List<String> added = new ArrayList<>();

    private static int ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor();
        } catch (IOException e) {
            return -1; // no ip command
        }
    }

    private static boolean present(String addr) throws IOException {
        for (InetAddress a : UdpServer.localAddresses(InetAddress.getByName("0.0.0.0"))) {
            if (a.getHostAddress().equals(addr)) {
                return true;
            }
        }
        return false;
    }

    /** Adds addr/8 to lo unless it is there; false if it cannot be added. */
    private boolean addLoopback(String addr) throws Exception {
        if (present(addr)) {
            return true;
        }
        if (ip("addr", "add", addr + "/8", "dev", "lo") != 0) {
            return false;
        }
        added.add(addr);
        return true;
    }

    private void removeAdded() throws Exception {
        for (String a : added) {
            ip("addr", "del", a + "/8", "dev", "lo");
        }
        added.clear();
    }

    private static void awaitCopy(Path out, String agentId, Path src, byte[] data) throws Exception {
        Path copy = out.resolve(agentId + src.toString());
        long deadline = System.nanoTime() + AWAIT_MS * 1_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(copy) && Files.size(copy) == data.length) {
                break;
            }
            Thread.sleep(50);
        }
        assertArrayEquals(data, Files.exists(copy) ? Files.readAllBytes(copy) : new byte[0],
            agentId + ": the copy must equal the source");
    }

    private static UdpAgent ship(InetSocketAddress server, String id, Path dir, byte[] data) throws Exception {
        Path src = dir.resolve(id + ".log");
        Files.write(src, data);
        return new UdpAgent(server, AgentConnectionConfig.defaults(id), TailerConfig.of(List.of(src.toString())),
            RealFs.INSTANCE, dir.resolve("state-" + id), new PollBackoff(), SEED, 0, new Log(id));
    }

    @Test
    void aWildcardServerAnswersFromTheSecondaryAddressTheAgentSentTo(@TempDir Path dir) throws Exception {
        System.out.println("seed " + SEED);
        try {
            assumeTrue(addLoopback("127.0.0.2"), "cannot add 127.0.0.2 to lo (needs root and iproute2): skipped");
            SplittableRandom rnd = new SplittableRandom(SEED);
            byte[] a = new byte[200_000];
            byte[] b = new byte[100_000];
            rnd.nextBytes(a);
            rnd.nextBytes(b);
            Path out = dir.resolve("out");
            try (UdpServer server = new UdpServer(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0), out,
                RealFs.INSTANCE, UdpServer.config(1472, 100, 1 << 20, 100), OutputStore.Config.DEFAULT,
                new Log("server"))) {
                int port = server.address().getPort();
                UdpAgent viaSecondary = ship(new InetSocketAddress("127.0.0.2", port), "secondary", dir, a);
                try {
                    awaitCopy(out, "secondary", dir.resolve("secondary.log"), a);
                } finally {
                    viaSecondary.kill();
                }
                // An address added while the server runs is picked up at its next rescan.
                assumeTrue(addLoopback("127.0.0.3"), "cannot add 127.0.0.3 to lo: the rescan part is skipped");
                UdpAgent viaNew = ship(new InetSocketAddress("127.0.0.3", port), "added", dir, b);
                try {
                    awaitCopy(out, "added", dir.resolve("added.log"), b);
                } finally {
                    viaNew.kill();
                }
            }
        } finally {
            removeAdded();
        }
    }
}
