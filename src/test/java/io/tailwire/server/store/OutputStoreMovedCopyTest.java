package io.tailwire.server.store;

import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore.OpenResult;
import io.tailwire.io.RealFs;
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

import static io.tailwire.io.Units.NANOS_PER_SECOND;
import static io.tailwire.server.store.StoreTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The operator renames the server's copy (a server-side logrotate), while a stream is open and while the
 * server is down: the copy continues in a new file at the path, no byte repeated or lost (issue 11 item 8).
 */
class OutputStoreMovedCopyTest {
    @TempDir
    Path tmp;
    Path out;
    final Log log = new Log();
    final List<OutputStore> stores = new ArrayList<>();
    long now = 5 * NANOS_PER_SECOND;

    @BeforeEach
    void dirs() throws IOException {
        out = Files.createDirectories(tmp.resolve("out"));
    }

    @AfterEach
    void closeStores() {
        stores.forEach(OutputStore::close);
    }

    OutputStore store() throws IOException {
        OutputStore s = new OutputStore(RealFs.INSTANCE, out, OutputStore.Config.DEFAULT, log);
        stores.add(s);
        return s;
    }

    @Test
    void aCopyRenamedWhileAStreamIsOpenContinuesInANewFileAtThePath() throws IOException {
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        st.maintain(now);
        append(s, 0, bytes("abc"));
        Files.move(out.resolve("a/f"), out.resolve("a/f.1"));
        append(s, 3, bytes("def")); // before the next check: still lands in the renamed file
        st.maintain(now + NANOS_PER_SECOND);
        assertFalse(Files.exists(out.resolve("a/f")), "checked every two seconds, not on every call");
        st.maintain(now + 2 * NANOS_PER_SECOND);
        assertEquals(1, log.count("the output file was moved away (now " + out.resolve("a/f.1")));
        append(s, 6, bytes("ghi"));
        st.syncDirty();
        assertEquals(9, s.held());
        assertEquals(9, s.durable());
        assertArrayEquals(bytes("abcdef"), read(out.resolve("a/f.1")));
        assertArrayEquals(bytes("ghi"), read(out.resolve("a/f")));
        st.maintain(now + 4 * NANOS_PER_SECOND);
        assertEquals(1, log.count("moved away"), "logged once, when it happened");

        st.close(); // restart
        st = store();
        OpenResult r = st.open("a", open("/f", 1));
        assertEquals(StreamStatus.OK, r.status());
        assertEquals(9, r.resumeOffset(), "what both files hold counts: nothing is shipped again");
    }

    @Test
    void aCopyRenamedWhileTheServerIsDownIsFoundBesideThePathAndContinued() throws IOException {
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        append(s, 0, bytes("0123456789"));
        st.close();
        Files.move(out.resolve("a/f"), out.resolve("a/f.1")); // logrotate while the server is down

        st = store();
        OpenResult r = st.open("a", open("/f", 1));
        assertEquals(StreamStatus.OK, r.status());
        assertEquals(10, r.resumeOffset(), "before the fix: 0, and the whole source shipped again");
        assertEquals(1, log.count("moved away while the server was down (now " + out.resolve("a/f.1")));
        append(r.stream(), 10, bytes("ABC"));
        assertArrayEquals(bytes("0123456789"), read(out.resolve("a/f.1")));
        assertArrayEquals(bytes("ABC"), read(out.resolve("a/f")));

        // Rotated again, on open this time: the resume offset counts all three files.
        r.stream().release();
        Files.move(out.resolve("a/f"), out.resolve("a/f.2"));
        OpenResult again = st.open("a", open("/f", 1));
        assertEquals(13, again.resumeOffset());
        append(again.stream(), 13, bytes("xy"));
        byte[] all = concat(read(out.resolve("a/f.1")), read(out.resolve("a/f.2")), read(out.resolve("a/f")));
        assertArrayEquals(bytes("0123456789ABCxy"), all);

        // The next generation starts in the newest file, and a restart finds it there.
        StoredStream g2 = ok(st.open("a", open("/f", 2, io.tailwire.proto.FileIdentity.getDefaultInstance(), 15)));
        append(g2, 0, bytes("NEW"));
        st.close();
        st = store();
        assertEquals(3, st.open("a", open("/f", 2)).resumeOffset());
        assertArrayEquals(bytes("xyNEW"), read(out.resolve("a/f")));
    }

    @Test
    void aNonEmptyStrangerAtThePathIsNeverWrittenInto() throws IOException {
        OutputStore st = store();
        StoredStream s = ok(st.open("a", open("/f", 1)));
        st.maintain(now);
        append(s, 0, bytes("abc"));
        Files.move(out.resolve("a/f"), out.resolve("a/f.1"));
        Files.write(out.resolve("a/f"), bytes("someone else's"));
        st.maintain(now + 2 * NANOS_PER_SECOND);
        append(s, 3, bytes("def"));
        assertArrayEquals(bytes("abcdef"), read(out.resolve("a/f.1")));
        assertArrayEquals(bytes("someone else's"), read(out.resolve("a/f")));
        assertEquals(1, log.count("now names another file that is not empty"));
    }
}
