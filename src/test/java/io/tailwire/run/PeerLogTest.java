package io.tailwire.run;

import static io.tailwire.io.Units.NANOS_PER_SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import io.tailwire.log.Log;
import io.tailwire.engine.ServerEvents;
import io.tailwire.proto.StreamStatus;
import io.tailwire.server.status.ServerStatus;

import org.junit.jupiter.api.Test;

/** Issue 13 item 11: peer-supplied text cannot forge log lines, and one peer cannot flood the log. */
class PeerLogTest {
    @Test
    void aPathWithANewlineCannotForgeALogLine() {
        List<String> lines = new ArrayList<>();
        ServerEvents events = UdpServer.events(new Log("server"), new ServerStatus(), new PeerLog(lines::add));
        String forged = "/x\n2026-01-01T00:00:00Z server INFO agent 'admin' connected from 10.0.0.1:1\u2028\u202e";
        events.onStreamOpened("evil", forged, 1, 0, StreamStatus.BAD_PATH);
        events.onLossReport("evil", "/y", 1, 0, 10, "gone\r\nserver ERROR fake");
        assertEquals(2, lines.size());
        for (String l : lines) {
            assertTrue(l.chars().noneMatch(c -> c < 0x20 || c == 0x7F || c == 0x2028 || c == 0x202E), l);
        }
        assertTrue(lines.get(0).contains("/x\\n2026-01-01T00:00:00Z server INFO"), lines.get(0));
        assertTrue(lines.get(1).contains("gone\\r\\nserver ERROR fake"), lines.get(1));
        assertEquals("a\\\\nb", PeerLog.escape("a\\nb"), "a backslash is escaped too, so escapes are unambiguous");
    }

    @Test
    void onePeersWarningsAreRateLimitedWithACountWhenThePeriodEnds() {
        List<String> lines = new ArrayList<>();
        PeerLog log = new PeerLog(lines::add);
        long t = 5 * NANOS_PER_SECOND;
        for (int k = 0; k < 1000; k++) {
            log.warn("evil", "evil: warning " + k, t + k);
        }
        log.warn("good", "good: warning", t + 1000);
        // 10 warnings, the line saying the rest are counted, and the other peer's warning.
        assertEquals(PeerLog.WARNINGS_PER_WINDOW + 2, lines.size(), String.join("\n", lines));
        assertTrue(lines.contains("good: warning"));
        log.flush(t + PeerLog.WINDOW_NS - 1);
        assertEquals(PeerLog.WARNINGS_PER_WINDOW + 2, lines.size(), "no summary before the period ends");
        log.flush(t + PeerLog.WINDOW_NS);
        assertTrue(lines.contains("evil: 990 more warnings in the last 10 s were not logged"), String.join("\n", lines));
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("good: ") && l.contains("not logged")));
        log.warn("evil", "evil: again", t + PeerLog.WINDOW_NS + 1);
        assertEquals("evil: again", lines.get(lines.size() - 1), "a new period logs again");
    }
}
