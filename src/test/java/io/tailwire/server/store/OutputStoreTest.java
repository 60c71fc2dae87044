package io.tailwire.server.store;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore.OpenResult;
import io.tailwire.io.RealFs;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.StreamStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.tailwire.server.store.StoreTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

class OutputStoreTest {
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

    OutputStore store() throws IOException {
        return store(OutputStore.Config.DEFAULT);
    }

    // ------------------------------------------------------------ layout and appends

    @Test
    void outputGoesToAgentDirPlusSourcePath() throws IOException {
        OutputStore st = store();
        OpenResult r = st.open("web1", open("/var/log/app.log", 1));
        assertEquals(0, r.resumeOffset());
        assertEquals(1, r.generation());
        assertTrue(append(r.stream(), 0, bytes("hello\n")));
        assertArrayEquals(bytes("hello\n"), read(out.resolve("web1/var/log/app.log")));
        try (Stream<Path> meta = Files.list(out.resolve("web1/.tailwire"))) {
            assertEquals(1, meta.filter(p -> p.toString().endsWith(".idx")).count());
        }
    }

    @Test
    void nonAsciiNamesMapToTheSameNamesOnDisk() throws IOException {
        StoredStream s = ok(store().open("web1", open("/var/log/journal-é/\u65e5\u672c.log", 1)));
        append(s, 0, bytes("x"));
        assertArrayEquals(bytes("x"), read(out.resolve("web1/var/log/journal-é/\u65e5\u672c.log")));
    }

    @Test
    void dirtyListenerFiresOncePerFilePerRound() throws IOException {
        OutputStore st = store();
        int[] calls = {0};
        st.onDirty(() -> calls[0]++);
        StoredStream s = ok(st.open("a", open("/f", 1)));
        append(s, 0, bytes("ab"));
        append(s, 2, bytes("cd"));
        assertEquals(1, calls[0]);
        st.syncDirty();
        append(s, 4, bytes("ef"));
        assertEquals(2, calls[0]);
    }

    @Test
    void appendSkipsBytesAlreadyHeldAndRefusesGaps() throws IOException {
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        byte[] data = bytes("0123456789abcdefghij");
        assertTrue(append(s, 0, data, 0, 10));
        assertTrue(append(s, 5, data, 5, 15), "partial overlap");
        assertEquals(15, s.held());
        assertTrue(append(s, 0, data, 0, 15), "pure duplicate");
        assertTrue(append(s, 15, data, 15, 15), "empty");
        assertEquals(15, s.held());
        assertFalse(append(s, 16, data, 16, 20), "gap");
        assertFalse(append(s, 17, data, 17, 20), "gap again");
        assertEquals(1, log.count("gap"), "one line per stream, not per call");
        assertTrue(append(s, 15, data, 15, 20));
        assertArrayEquals(data, read(out.resolve("a/f")));
        assertEquals(20, st.bytesWritten());
    }

    @Test
    void durableTrailsHeldUntilSyncDirty() throws IOException {
        OutputStore st = store();
        StoredStream s1 = ok(st.open("a", open("/one", 1)));
        StoredStream s2 = ok(st.open("a", open("/two", 1)));
        append(s1, 0, bytes("abc"));
        append(s2, 0, bytes("de"));
        append(s1, 3, bytes("fg"));
        assertEquals(0, s1.durable());
        assertEquals(5, s1.held());
        assertEquals(7, st.unsyncedBytes());
        assertEquals(2, st.syncDirty(), "each dirty file forced once");
        assertEquals(5, s1.durable());
        assertEquals(2, s2.durable());
        assertEquals(0, st.unsyncedBytes());
        assertEquals(7, st.bytesDurable());
        assertEquals(0, st.syncDirty(), "nothing new to force");
    }

    // ------------------------------------------------------------ generations

    @Test
    void sameGenerationResumesAtHeldAfterForcing() throws IOException {
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        append(s, 0, bytes("abcdef"));
        OpenResult again = st.open("a", open("/f", 1));
        assertEquals(StreamStatus.OK, again.status());
        assertEquals(6, again.resumeOffset());
        assertEquals(1, again.generation());
        assertEquals(6, again.stream().durable(), "the announced resume offset is durable");
        assertEquals(6, s.durable());
    }

    @Test
    void newerGenerationStartsAtEndAndOlderIsStale() throws IOException {
        OutputStore st = store();
        StoredStream g1 = ok(st.open("a", open("/f", 1)));
        append(g1, 0, bytes("one\n"));
        OpenResult r2 = st.open("a", open("/f", 2, FileIdentity.getDefaultInstance(), 4));
        StoredStream g2 = ok(r2);
        assertEquals(0, r2.resumeOffset());
        assertEquals(2, r2.generation());
        assertEquals(4, g1.durable(), "the old generation was forced before the new one was recorded");
        assertFalse(append(g1, 4, bytes("late")), "no writes to a superseded generation");
        assertEquals(4, g1.held());
        append(g2, 0, bytes("two\n"));
        assertEquals(4, g2.held());
        OpenResult old = st.open("a", open("/f", 1));
        assertEquals(StreamStatus.STALE_GENERATION, old.status());
        assertEquals(2, old.generation());
        assertNull(old.stream());
        // skipping numbers is allowed: 5 is newer than 2
        StoredStream g5 = ok(st.open("a", open("/f", 5, FileIdentity.getDefaultInstance(), 4)));
        append(g5, 0, bytes("five\n"));
        assertArrayEquals(bytes("one\ntwo\nfive\n"), read(out.resolve("a/f")));
        assertEquals(StreamStatus.STALE_GENERATION, st.open("a", open("/f", 3)).status());
    }

    @Test
    void previousGenerationLengthMismatchOfAClosedGenerationIsOnlyLogged() throws IOException {
        OutputStore st = store();
        StoredStream g1 = ok(st.open("a", open("/f", 1)));
        append(g1, 0, bytes("abc"));
        st.syncDirty();
        assertTrue(g1.close(3));
        ok(st.open("a", open("/f", 2, FileIdentity.getDefaultInstance(), 10)));
        assertEquals(1, log.count("ended at 10 bytes, it was closed at 3"));
    }

    @Test
    void generationZeroOnEmptyIndexStartsGenerationOne() throws IOException {
        OpenResult r = store().open("a", open("/f", 0, identity(1, 2, bytes("x")), 0));
        assertEquals(StreamStatus.OK, r.status());
        assertEquals(1, r.generation());
        assertEquals(0, r.resumeOffset());
    }

    @Test
    void generationZeroResumesOnlyTheSameFile() throws IOException {
        OutputStore st = store();
        byte[] content = bytes("line one\nline two\n");
        FileIdentity id = identity(7, 42, content);
        StoredStream g3 = ok(st.open("a", open("/f", 3, id, 0)));
        append(g3, 0, content);

        OpenResult same = st.open("a", open("/f", 0, id, 0));
        assertEquals(StreamStatus.OK, same.status());
        assertEquals(3, same.generation());
        assertEquals(content.length, same.resumeOffset());

        OpenResult otherInode = st.open("a", open("/f", 0, identity(7, 43, content), 0));
        assertEquals(4, otherInode.generation(), "different inode: new generation");
        assertEquals(0, otherInode.resumeOffset());

        byte[] reused = bytes("other content\n");
        OpenResult inodeReuse = st.open("a", open("/f", 0, identity(7, 43, reused), 0));
        assertEquals(5, inodeReuse.generation(), "same inode, different fingerprint: new generation");
    }

    @Test
    void generationZeroVerifiesGrownFileAgainstHeldBytes() throws IOException {
        OutputStore st = store();
        byte[] full = new byte[3000];
        for (int i = 0; i < full.length; i++) {
            full[i] = (byte) ('a' + i % 26);
        }
        // Opened when the file had 100 bytes; the agent then lost its state while the file grew.
        StoredStream g1 = ok(st.open("a", open("/f", 1, identity(1, 9, prefix(full, 100)), 0)));
        append(g1, 0, prefix(full, 2000));
        OpenResult r = st.open("a", open("/f", 0, identity(1, 9, full), 0));
        assertEquals(1, r.generation(), "same first 1024 bytes: same file");
        assertEquals(2000, r.resumeOffset());

        byte[] changed = full.clone();
        changed[500] ^= 1;
        assertEquals(2, st.open("a", open("/f", 0, identity(1, 9, changed), 0)).generation());
    }

    @Test
    void generationZeroTreatsShorterFileAsTruncated() throws IOException {
        OutputStore st = store();
        byte[] content = bytes("0123456789");
        StoredStream g1 = ok(st.open("a", open("/f", 1, identity(1, 9, prefix(content, 2)), 0)));
        append(g1, 0, content);
        // Same inode, file now 3 bytes long with the same first bytes: it was truncated and rewritten.
        OpenResult r = st.open("a", open("/f", 0, identity(1, 9, prefix(content, 3)), 0));
        assertEquals(2, r.generation());
        assertEquals(0, r.resumeOffset());
    }

    // ------------------------------------------------------------ hostile names

    @Test
    void hostilePathsAreRefusedAndNothingIsCreated() throws IOException {
        OutputStore st = store();
        String[] bad = {"rel/x", "/a/../../etc/passwd", "/a/./b", "//a", "/a/", "/a\u0000b", "/a\u0007",
            "/.tailwire/x", "/" + "s".repeat(256), ("/" + "a".repeat(255)).repeat(17)};
        for (String p : bad) {
            OpenResult r = st.open("a", open(p, 1));
            assertEquals(StreamStatus.BAD_PATH, r.status(), p);
            assertNull(r.stream());
            assertFalse(r.message().isEmpty());
        }
        assertEquals(bad.length, st.rejectedPaths());
        assertEquals(StreamStatus.BAD_PATH, st.open("..", open("/x", 1)).status());
        assertEquals(StreamStatus.BAD_PATH, st.open("a/b", open("/x", 1)).status());
        assertFalse(Files.exists(out.resolve("a")), "validation happens before touching the disk");
        assertFalse(Files.exists(out.resolve("..").resolve("x")));
    }

    @Test
    void symlinkedDirectoryPointingOutsideIsRefused() throws IOException {
        Files.createDirectories(out.resolve("web1"));
        Files.createSymbolicLink(out.resolve("web1/var"), outside);
        OutputStore st = store();
        assertEquals(StreamStatus.BAD_PATH, st.open("web1", open("/var/log/app.log", 1)).status());
        assertEquals(StreamStatus.BAD_PATH, st.open("web1", open("/var/app.log", 1)).status());
        try (Stream<Path> s = Files.list(outside)) {
            assertEquals(0, s.count(), "nothing created outside OUT");
        }
    }

    @Test
    void symlinkedFilePointingOutsideIsRefusedEvenWhenDangling() throws IOException {
        Files.createDirectories(out.resolve("web1"));
        Files.write(outside.resolve("secret"), bytes("keep"));
        Files.createSymbolicLink(out.resolve("web1/existing"), outside.resolve("secret"));
        Files.createSymbolicLink(out.resolve("web1/dangling"), outside.resolve("created"));
        OutputStore st = store();
        assertEquals(StreamStatus.BAD_PATH, st.open("web1", open("/existing", 1)).status());
        assertEquals(StreamStatus.BAD_PATH, st.open("web1", open("/dangling", 1)).status());
        assertArrayEquals(bytes("keep"), read(outside.resolve("secret")));
        assertFalse(Files.exists(outside.resolve("created")));
    }

    @Test
    void pathConflictingWithExistingFileOrDirectoryIsRefused() throws IOException {
        OutputStore st = store();
        ok(st.open("a", open("/var/log", 1)));
        assertEquals(StreamStatus.BAD_PATH, st.open("a", open("/var/log/x", 1)).status());
        ok(st.open("a", open("/d/f", 1)));
        assertEquals(StreamStatus.BAD_PATH, st.open("a", open("/d", 1)).status());
    }

    @Test
    void agentsAreSeparated() throws IOException {
        OutputStore st = store();
        append(ok(st.open("a", open("/f", 1))), 0, bytes("A"));
        append(ok(st.open("b", open("/f", 1))), 0, bytes("B"));
        assertArrayEquals(bytes("A"), read(out.resolve("a/f")));
        assertArrayEquals(bytes("B"), read(out.resolve("b/f")));
    }

    // ------------------------------------------------------------ limits

    @Test
    void streamLimitAnswersTooManyStreamsUntilOneIsReleased() throws IOException {
        OutputStore st = store(new OutputStore.Config(2, 10, 10));
        StoredStream a = ok(st.open("a", open("/1", 1)));
        ok(st.open("a", open("/2", 1)));
        assertEquals(StreamStatus.TOO_MANY_STREAMS, st.open("a", open("/3", 1)).status());
        a.release();
        a.release(); // idempotent
        assertEquals(1, st.liveStreams());
        ok(st.open("a", open("/3", 1)));
    }

    @Test
    void idleFilesAreClosedLeastRecentlyUsedFirstAndReopenCorrectly() throws IOException {
        OutputStore st = store(new OutputStore.Config(10, 2, 10));
        StoredStream a = ok(st.open("a", open("/a", 1)));
        StoredStream b = ok(st.open("a", open("/b", 1)));
        append(a, 0, bytes("aaa"));
        append(b, 0, bytes("bb"));
        assertEquals(StreamStatus.TOO_MANY_STREAMS, st.open("a", open("/c", 1)).status(),
            "every open file has a live stream");
        b.release();
        a.release(); // b idles first, so b is the eldest idle file
        StoredStream c = ok(st.open("a", open("/c", 1))); // forces b (dirty) and closes it
        assertEquals(2, st.openFiles());
        assertEquals(2, b.durable());
        c.release();
        OpenResult rb = st.open("a", open("/b", 1)); // closes a (eldest idle now)
        assertEquals(2, rb.resumeOffset());
        assertEquals(2, st.openFiles());
        append(rb.stream(), 2, bytes("BB"));
        OpenResult ra = st.open("a", open("/a", 1));
        assertEquals(3, ra.resumeOffset());
        assertArrayEquals(bytes("bbBB"), read(out.resolve("a/b")));
    }
}
