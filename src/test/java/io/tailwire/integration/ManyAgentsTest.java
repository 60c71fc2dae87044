package io.tailwire.integration;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tailwire.run.UdpAgent;
import io.tailwire.run.UdpServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fifty agents at once against one server, each with three files: one written before the agent started,
 * one growing while it runs, one rotated (rename+create for even agents, copytruncate for odd ones).
 * Every copy must equal its source byte for byte, under OUT/agent_id/&lt;absolute source path&gt;, and
 * nothing else may appear there.
 */
class ManyAgentsTest {
    private static final long SEED = 0x5EED_0050L;
    private static final int AGENTS = 50;

    @TempDir
    Path tmp;

    private record Host(String id, NumberedLog pre, NumberedLog live, NumberedLog rot) {
        List<NumberedLog> logs() {
            return List.of(pre, live, rot);
        }
    }

    @Test
    void fiftyConcurrentAgentsEachGetAnExactCopyOfEveryFile() throws Exception {
        try (Rig rig = new Rig(tmp, SEED)) {
            UdpServer server = rig.server();
            List<Host> hosts = new ArrayList<>();
            List<UdpAgent> agents = new ArrayList<>();
            for (int i = 0; i < AGENTS; i++) {
                String id = String.format("web-%02d", i);
                Path dir = rig.logDir(id);
                Host h = new Host(id, new NumberedLog(dir.resolve("pre.log"), SEED + 3L * i),
                    new NumberedLog(dir.resolve("live.log"), SEED + 3L * i + 1),
                    new NumberedLog(dir.resolve("rot.log"), SEED + 3L * i + 2));
                h.pre.write(60);
                h.rot.write(40);
                hosts.add(h);
            }
            for (Host h : hosts) {
                agents.add(rig.agent(server, h.id, h.pre.path.getParent() + "/*.log"));
            }
            for (Host h : hosts) {
                h.live.write(40);
            }
            // The server opens each new path with several fsyncs on its engine thread, one path after another:
            // 150 first opens take 5-20 s on a loaded two-core machine, hence the longer bound here.
            rig.awaitOutputs(expected(rig, hosts), 60_000 * NANOS_PER_MILLI);

            // All fifty connected; they run side by side, each with its own thread and socket. (Some may have
            // connected twice: while the server's engine is busy opening paths, a handshake can outlast the
            // 5 s connect timeout, and the retry replaces the first connection. That is allowed.)
            Set<String> connected = new TreeSet<>();
            Matcher m = Pattern.compile("agent '([^']+)' connected from").matcher(String.join("\n",
                rig.logLines("connected from")));
            while (m.find()) {
                connected.add(m.group(1));
            }
            assertEquals(AGENTS, connected.size(), "distinct agents connected");

            for (int i = 0; i < AGENTS; i++) {
                Host h = hosts.get(i);
                if (i % 2 == 0) {
                    h.rot.rotate();
                } else {
                    h.rot.copyTruncate();
                }
                h.rot.write(40);
                h.live.write(40);
            }
            rig.awaitOutputs(expected(rig, hosts));

            for (Host h : hosts) {
                List<String> want = new ArrayList<>();
                for (NumberedLog l : h.logs()) {
                    want.add(rig.out.resolve(h.id).relativize(rig.output(h.id, l.path)).toString());
                }
                want.sort(null);
                assertEquals(want, Rig.filesUnder(rig.out.resolve(h.id)), "files under OUT/" + h.id);
            }
            assertEquals(List.of(), rig.logLines("LOST"));
            for (UdpAgent a : agents) {
                assertNull(a.failure());
            }
            assertNull(server.failure());
        }
    }

    private static Map<Path, byte[]> expected(Rig rig, List<Host> hosts) {
        Map<Path, byte[]> m = new LinkedHashMap<>();
        for (Host h : hosts) {
            for (NumberedLog l : h.logs()) {
                m.put(rig.output(h.id, l.path), l.expected());
            }
        }
        return m;
    }
}
