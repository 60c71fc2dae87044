package io.tailwire.server.store;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore.OpenResult;
import io.tailwire.io.RealFs;
import io.tailwire.proto.StreamStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.tailwire.server.store.StoreTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 13 item 10, on the real file system: someone who can write inside OUT plants links so the server
 * writes outside it. Each attack must be refused (or defused) with nothing outside OUT created or changed.
 */
class OutputStoreLinkAttackTest {
    @TempDir
    Path tmp;
    Path out;
    Path outside;
    final Log log = new Log();
    final List<OutputStore> stores = new ArrayList<>();

    @BeforeEach
    void dirs() throws IOException {
        out = Files.createDirectories(tmp.resolve("out"));
        outside = Files.createDirectories(tmp.resolve("outside"));
    }

    @AfterEach
    void closeStores() {
        stores.forEach(OutputStore::close);
    }

    OutputStore store(OutputStore.Config c) throws IOException {
        OutputStore s = new OutputStore(RealFs.INSTANCE, out, c, log);
        stores.add(s);
        return s;
    }

    /** Opens and, if the store accepts, appends: the write an attacker wants redirected. */
    static OpenResult openAndWrite(OutputStore st, String agent, String path, String data) {
        OpenResult r = st.open(agent, open(path, 1));
        if (r.stream() != null) {
            append(r.stream(), r.resumeOffset(), bytes(data));
            st.syncDirty();
        }
        return r;
    }

    List<Path> everythingOutside() throws IOException {
        try (Stream<Path> s = Files.walk(outside)) {
            return s.filter(p -> !p.equals(outside)).collect(Collectors.toList());
        }
    }

    @Test
    void agentDirectoryAsSymlinkToOutsideIsRefused() throws IOException {
        Files.createSymbolicLink(out.resolve("web1"), outside);
        OpenResult r = openAndWrite(store(OutputStore.Config.DEFAULT), "web1", "/app.log", "line\n");
        assertEquals(StreamStatus.BAD_PATH, r.status(), r.message());
        assertEquals(List.of(), everythingOutside(), "nothing created outside OUT");
    }

    @Test
    void metadataDirectoryAsSymlinkToOutsideIsRefused() throws IOException {
        Files.createDirectories(out.resolve("web1"));
        Files.createSymbolicLink(out.resolve("web1").resolve(OutputPaths.META_DIR), outside);
        OpenResult r = openAndWrite(store(OutputStore.Config.DEFAULT), "web1", "/app.log", "line\n");
        assertEquals(StreamStatus.BAD_PATH, r.status(), r.message());
        assertEquals(List.of(), everythingOutside(), "no index written outside OUT");
    }

    @Test
    void outputFileHardLinkedToAnOutsideFileIsRefusedAndTheFileIsNotAppendedTo() throws IOException {
        Path victim = Files.write(outside.resolve("victim"), bytes("keep\n"));
        Files.createDirectories(out.resolve("web1"));
        Files.createLink(out.resolve("web1/app.log"), victim);
        OpenResult r = openAndWrite(store(OutputStore.Config.DEFAULT), "web1", "/app.log", "attacker's data\n");
        assertArrayEquals(bytes("keep\n"), read(victim), "the outside file is untouched");
        assertEquals(StreamStatus.BAD_PATH, r.status(), r.message());
        assertEquals(1, log.count("hard links"), log.lines.toString());
    }

    @Test
    void symlinkedIndexTempFileIsRemovedNotFollowed() throws IOException {
        Path victim = Files.write(outside.resolve("victim"), bytes("precious\n"));
        Path meta = Files.createDirectories(out.resolve("web1").resolve(OutputPaths.META_DIR));
        String idx = IndexFiles.indexName("/app.log");
        Files.createSymbolicLink(meta.resolve(idx + ".tmp"), victim);
        OpenResult r = openAndWrite(store(OutputStore.Config.DEFAULT), "web1", "/app.log", "line\n");
        assertArrayEquals(bytes("precious\n"), read(victim), "the link's target was neither truncated nor written");
        assertEquals(StreamStatus.OK, r.status(), r.message());
        assertTrue(Files.isRegularFile(meta.resolve(idx), java.nio.file.LinkOption.NOFOLLOW_LINKS),
            "the index is a file of its own, not the planted link renamed into place");
        assertArrayEquals(bytes("line\n"), read(out.resolve("web1/app.log")));
    }

    @Test
    void symlinkEvenStayingInsideTheAgentDirectoryIsRefused() throws IOException {
        // Following a link safely would mean resolving it by hand; no honest layout needs one below OUT.
        Files.createDirectories(out.resolve("web1/real"));
        Files.createSymbolicLink(out.resolve("web1/alias"), out.resolve("web1/real"));
        OpenResult r = openAndWrite(store(OutputStore.Config.DEFAULT), "web1", "/alias/app.log", "x");
        assertEquals(StreamStatus.BAD_PATH, r.status(), r.message());
        assertFalse(Files.exists(out.resolve("web1/real/app.log")));
    }

    /**
     * The race: a helper exchanges a directory with a symbolic link to outside (renameat2 RENAME_EXCHANGE)
     * as fast as it can while the store opens new files below that name, directly and in new
     * subdirectories. Checking a path and then opening it by path created some of them outside.
     */
    @Test
    void swappingADirectoryWithALinkDuringOpensNeverCreatesAnythingOutsideOut() throws Exception {
        Path helper = compileSwapHelper();
        Path agent = Files.createDirectories(out.resolve("web1"));
        Files.createDirectories(agent.resolve("d"));
        Files.createSymbolicLink(agent.resolve("e"), outside);
        // Few open files: states are evicted and every open walks from OUT again.
        OutputStore st = store(new OutputStore.Config(1000, 8, 16));
        Process swapper = new ProcessBuilder(helper.toString(), agent.resolve("d").toString(),
            agent.resolve("e").toString()).redirectErrorStream(true).start();
        int ok = 0;
        int refused = 0;
        int opens = 1000;
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(swapper.getInputStream(),
                StandardCharsets.US_ASCII));
            assertEquals("swapping", r.readLine(), "the helper started");
            for (int i = 0; i < opens; i++) {
                String path = i % 2 == 0 ? "/d/f" + i : "/d/s" + i + "/f";
                OpenResult res = st.open("web1", open(path, 1));
                if (res.stream() != null) {
                    ok++;
                    append(res.stream(), 0, bytes("x"));
                    res.stream().release();
                } else {
                    refused++;
                }
            }
            assertTrue(swapper.isAlive(), "the helper swapped for the whole run");
        } finally {
            swapper.destroy();
            swapper.waitFor(10, TimeUnit.SECONDS);
        }
        System.out.println("race: " + ok + " opens accepted, " + refused + " refused while swapping");
        assertEquals(List.of(), everythingOutside(), "nothing created outside OUT");
        assertTrue(ok > 0, "some opens found the real directory");
    }

    /** Compiles the renameat2 helper into the test's directory; skips the test only if gcc is missing. */
    Path compileSwapHelper() throws Exception {
        Path src = Files.writeString(tmp.resolve("swap.c"), String.join("\n",
            "#define _GNU_SOURCE",
            "#include <fcntl.h>",
            "#include <stdio.h>",
            "/* Exchanges two names atomically, forever: a directory and a symbolic link trade places. */",
            "int main(int argc, char **argv) {",
            "    if (argc != 3) { fprintf(stderr, \"usage: swap A B\\n\"); return 2; }",
            "    for (unsigned long n = 1;; n++) {",
            "        if (renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) != 0) {",
            "            perror(\"renameat2\"); return 1; }",
            "        if (n == 1) { puts(\"swapping\"); fflush(stdout); }",
            "    }",
            "}", ""));
        Path bin = tmp.resolve("swap");
        Process gcc;
        try {
            gcc = new ProcessBuilder("gcc", "-O2", "-o", bin.toString(), src.toString())
                .redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, "gcc is not installed: the symlink-swap race test needs it to build its helper");
            throw e;
        }
        String msg = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(gcc.waitFor(60, TimeUnit.SECONDS) && gcc.exitValue() == 0, "gcc failed: " + msg);
        return bin;
    }
}
