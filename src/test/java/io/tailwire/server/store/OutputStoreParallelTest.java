package io.tailwire.server.store;

import static io.tailwire.server.store.StoreTestSupport.append;
import static io.tailwire.server.store.StoreTestSupport.identity;
import static io.tailwire.server.store.StoreTestSupport.open;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore.OpenRequest;
import io.tailwire.engine.StreamStore.OpenResult;
import io.tailwire.io.RealFs;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;

import io.tailwire.proto.GenerationIndex;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parallel I/O the real server uses (several paths opened at once, several files forced at once) gives
 * exactly the answers and files of the one-at-a-time store the simulator checks.
 */
class OutputStoreParallelTest {
    @TempDir
    Path tmp;
    final ExecutorService io = Executors.newFixedThreadPool(4);
    final List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        io.shutdownNow();
    }

    /** A batch as an engine turn may bring: new agents, a path opened twice, a refused path, an old path. */
    List<OpenRequest> batch() {
        List<OpenRequest> r = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            r.add(new OpenRequest("agent-" + i, open("/var/log/app" + i + "/x.log", 0)));
        }
        for (int i = 0; i < 12; i++) { // one agent, new files in new directories they share
            r.add(new OpenRequest("agent-0", open("/srv/d" + (i % 3) + "/sub/f" + i + ".log", 0)));
        }
        r.add(new OpenRequest("agent-0", open("/var/log/other.log", 3)));
        r.add(new OpenRequest("agent-1", open("/var/log/app1/x.log", 0))); // same path again in the batch
        r.add(new OpenRequest("agent-2", open("/var/../etc/passwd", 1)));  // refused
        r.add(new OpenRequest("agent-3", open("/var/log/old.log", 0, identity(1, 2, bytes("old")), 0)));
        return r;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    List<OpenResult> openBatch(Path out, boolean parallel) throws IOException {
        OutputStore st = new OutputStore(RealFs.INSTANCE, out, OutputStore.Config.DEFAULT, log::add);
        if (parallel) {
            st.parallelIo(io);
        }
        // agent-3's old.log already has a generation: the batch must resume it, not start another.
        StoredStream old = st.open("agent-3", open("/var/log/old.log", 0, identity(1, 2, bytes("old")), 0))
            .stream();
        append(old, 0, bytes("old"));
        st.syncDirty();
        old.release();
        List<OpenResult> results = st.openAll(batch());
        for (OpenResult r : results) {
            if (r.stream() != null) {
                long at = r.stream().held();
                assertTrue(append(r.stream(), at, bytes("line " + at + "\n")));
            }
        }
        st.syncDirty();
        for (OpenResult r : results) {
            if (r.stream() != null) {
                assertEquals(r.stream().held(), r.stream().durable(), "forced by the (parallel) group commit");
            }
        }
        st.close();
        return results;
    }

    @Test
    void parallelOpensAndForcesAnswerAndWriteExactlyAsOneAtATime() throws IOException {
        Path seqOut = tmp.resolve("seq");
        Path parOut = tmp.resolve("par");
        List<OpenResult> seq = openBatch(seqOut, false);
        List<OpenResult> par = openBatch(parOut, true);
        assertEquals(seq.size(), par.size());
        for (int i = 0; i < seq.size(); i++) {
            OpenResult a = seq.get(i);
            OpenResult b = par.get(i);
            String what = "request " + i;
            assertEquals(a.status(), b.status(), what);
            assertEquals(a.resumeOffset(), b.resumeOffset(), what);
            assertEquals(a.generation(), b.generation(), what);
        }
        for (int i = 0; i < par.size(); i++) {
            assertEquals(i == 26 ? StreamStatus.BAD_PATH : StreamStatus.OK, par.get(i).status(), "request " + i);
        }
        assertEquals(3, par.get(27).resumeOffset(), "old.log resumed after its 3 bytes");
        List<Path> files;
        try (var w = Files.walk(seqOut)) {
            files = w.filter(Files::isRegularFile).toList();
        }
        assertTrue(files.size() >= 50, "outputs and indexes: " + files.size());
        for (Path f : files) {
            Path twin = parOut.resolve(seqOut.relativize(f));
            if (f.toString().endsWith(".idx")) {
                // The same index but for the output file's inode, which differs between the two directories.
                assertEquals(withoutOutput(f), withoutOutput(twin), "same index: " + twin);
            } else {
                assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(twin), "same content: " + twin);
            }
        }
        try (var w = Files.walk(parOut)) {
            assertEquals(files.size(), w.filter(Files::isRegularFile).count(), "no extra files");
        }
    }

    private static GenerationIndex withoutOutput(Path idx) throws IOException {
        GenerationIndex i = GenerationIndex.parseFrom(Files.readAllBytes(idx));
        assertTrue(i.hasOutput(), "the index names its output file: " + idx);
        return i.toBuilder().clearOutput().build();
    }
}
