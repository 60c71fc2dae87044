package io.tailwire.server.store;

import io.tailwire.wire.Fingerprint;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

class OutputPathsTest {

    @Test
    void acceptsOrdinaryAbsolutePaths() {
        assertNull(OutputPaths.checkSourcePath("/var/log/app.log"));
        assertNull(OutputPaths.checkSourcePath("/a"));
        assertNull(OutputPaths.checkSourcePath("/x/.tailwire/y")); // reserved only as first segment
        assertNull(OutputPaths.checkSourcePath("/..a/b../.hidden/é"));
        assertNull(OutputPaths.checkSourcePath("/emoji/\ud83d\ude00.log")); // a proper surrogate pair
    }

    @Test
    void refusesEachHostileClass() {
        String[] bad = {
            null, "", "var/log/x", "./x", "/", "/a/", "//a", "/a//b", "/a/./b", "/a/../b", "/..", "/.",
            "/a\u0000b", "/a\nb", "/a\u001fb", "/a\u007fb", "/.tailwire", "/.tailwire/x", "/.TailWire/x",
            "/a\ud800", "/a\udc00b", "/a\ud800\ud800",
        };
        for (String p : bad) {
            assertNotNull(OutputPaths.checkSourcePath(p), "accepted " + p);
        }
    }

    @Test
    void segmentLimitIs255BytesCountingUtf8() {
        assertNull(OutputPaths.checkSourcePath("/" + "a".repeat(255)));
        assertNotNull(OutputPaths.checkSourcePath("/" + "a".repeat(256)));
        // 'é' is two bytes in UTF-8: 128 of them are 256 bytes in 128 characters.
        assertNull(OutputPaths.checkSourcePath("/" + "é".repeat(127) + "a"));
        assertNotNull(OutputPaths.checkSourcePath("/" + "é".repeat(128)));
    }

    @Test
    void totalLimitIs4096Bytes() {
        String seg = "/" + "a".repeat(255); // 256 bytes
        String p4096 = seg.repeat(16);
        assertEquals(4096, p4096.length());
        assertNull(OutputPaths.checkSourcePath(p4096));
        assertNotNull(OutputPaths.checkSourcePath(p4096 + "/b"));
    }

    @Test
    void agentIds() {
        assertNull(OutputPaths.checkAgentId("web-1.prod_A"));
        assertNull(OutputPaths.checkAgentId("a".repeat(64)));
        String[] bad = {null, "", ".", "..", "a".repeat(65), "a/b", "a b", "é", "a\u0000"};
        for (String id : bad) {
            assertNotNull(OutputPaths.checkAgentId(id), "accepted " + id);
        }
    }

    @Test
    void outputFileMapsSegmentsUnderAgentDir() {
        Path agent = Path.of("/out/web1");
        assertEquals(Path.of("/out/web1/var/log/app.log"), OutputPaths.outputFile(agent, "/var/log/app.log"));
    }
}
