package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import io.tailwire.io.RealFs;
import io.tailwire.server.store.OutputStore;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A real full disk: a 2 MiB tmpfs, mostly taken by a filler file. The server's OutputStore gets ENOSPC
 * half-way through a transfer (engine and agent in virtual time, the file system real); the window
 * closes, the transfer waits, and once the filler is deleted it resumes by itself, with the output
 * byte-exact. Needs root (mount); skipped otherwise.
 */
class DiskFullTmpfsTest {
    private static boolean run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void enospcClosesTheWindowAndTheTransferResumesExactlyWhenSpaceReturns() throws Exception {
        Path mnt = Files.createTempDirectory("tailwire-tmpfs");
        boolean mounted = run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt.toString());
        Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (needs root): skipped");
        try {
            long seed = 51;
            Path filler = mnt.resolve("filler");
            Files.write(filler, new byte[1536 * 1024]); // leaves about 512 KiB
            List<String> storeLog = new ArrayList<>();
            OutputStore store = new OutputStore(RealFs.INSTANCE, mnt.resolve("out"), OutputStore.Config.DEFAULT,
                storeLog::add);
            List<String> events = new ArrayList<>();
            Harness h = new Harness(seed);
            h.server = new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), seed, store,
                new ServerEvents() {
                    @Override
                    public void onStorageStalled(String agentId, String path, boolean stalled) {
                        events.add(stalled ? "stalled" : "resumed");
                    }
                });
            byte[] data = new byte[1024 * 1024];
            new SplittableRandom(seed).nextBytes(data);
            long[] stalledAt = {-1};
            boolean ok = BackPressureTest.ship(h, data, 120_000 * NANOS_PER_MILLI, t -> {
                if (store.syncDirty() > 0) {
                    h.server.onDurableAdvanced(); // the writer thread's job in the real server
                }
                if (stalledAt[0] < 0 && events.contains("stalled")) {
                    stalledAt[0] = t;
                } else if (stalledAt[0] >= 0 && t - stalledAt[0] > 3_000 * NANOS_PER_MILLI && Files.exists(filler)) {
                    try {
                        Files.delete(filler); // the operator frees space
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                }
            });
            assertTrue(ok, "transfer did not finish, seed " + seed + "; store said " + storeLog);
            assertEquals(List.of("stalled", "resumed"), events);
            assertTrue(storeLog.stream().anyMatch(l -> l.contains("No space left")), storeLog.toString());
            assertTrue(store.diskErrors() > 0);
            Path written;
            try (Stream<Path> files = Files.walk(mnt.resolve("out"))) {
                written = files.filter(p -> p.endsWith("app.log")).findFirst().orElseThrow();
            }
            assertArrayEquals(data, Files.readAllBytes(written), "output differs: lost or duplicated bytes");
            store.close();
        } finally {
            run("umount", mnt.toString());
            Files.deleteIfExists(mnt);
        }
    }
}
