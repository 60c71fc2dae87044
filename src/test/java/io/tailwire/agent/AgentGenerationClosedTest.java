package io.tailwire.agent;

import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.io.RealFs;
import io.tailwire.server.store.OutputStore;
import io.tailwire.wire.Wire;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.*;

/**
 * An honest agent that crashed after STREAM_CLOSED and before saving it reopens a generation the server
 * has closed: GENERATION_CLOSED must finish it there, not be retried forever (issue 11 item 5, wire-spec
 * 6.1). AgentCore over a MemFs, the real ServerEndpoint and OutputStore, virtual time, no loss.
 */
class AgentGenerationClosedTest {
    static final InetSocketAddress ADDR = new InetSocketAddress("10.0.0.1", 40000);

    @TempDir
    Path tmp;
    final MemFs fs = new MemFs();
    final List<String> infos = new ArrayList<>();
    final List<String> warns = new ArrayList<>();
    OutputStore store;
    ServerEndpoint server;
    long now = 1_000 * NANOS_PER_MILLI;

    /** Each start a new process: its own seed, so its own connection nonce. */
    long seed = 3;

    AgentCore agent() throws Exception {
        AgentCore core = new AgentCore(AgentConnectionConfig.defaults("web1"), TailerConfig.of(List.of("/logs/*.log")),
            fs, Path.of("/state"), new PollBackoff(), seed++, new AgentCore.Listener() {
                @Override
                public void info(String message) {
                    infos.add(message);
                }

                @Override
                public void warn(String message) {
                    warns.add(message);
                }
            });
        core.start(now);
        return core;
    }

    boolean run(AgentCore core, BooleanSupplier done, long maxNs) {
        UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
        long end = now + maxNs;
        while (!done.getAsBoolean()) {
            if (now > end) {
                return false;
            }
            for (int n; (n = core.poll(out, now)) > 0; ) {
                byte[] b = new byte[n];
                out.getBytes(0, b);
                server.onDatagram(ADDR, new UnsafeBuffer(b), 0, n, now);
            }
            for (int n; (n = server.poll(out, now)) > 0; ) {
                byte[] b = new byte[n];
                out.getBytes(0, b);
                core.onDatagram(new UnsafeBuffer(b), 0, n, now);
            }
            if (store.syncDirty() > 0) {
                server.onDurableAdvanced();
            }
            now += NANOS_PER_MILLI;
        }
        return true;
    }

    @Test
    void aGenerationClosedBeforeTheAgentsCrashIsFinishedThereNotRetried() throws Exception {
        store = new OutputStore(RealFs.INSTANCE, tmp.resolve("out"), OutputStore.Config.DEFAULT, s -> { });
        server = new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), 5, store, ServerEvents.NONE);
        fs.mkdirs("/logs");
        fs.mkdirs("/state");
        byte[] content = "hello world\n".repeat(50).getBytes();
        fs.create("/logs/app.log", content, 0);
        AgentCore first = agent();
        assertTrue(run(first, first::idle, 10_000 * NANOS_PER_MILLI));
        byte[] stateBeforeClose = fs.contents("/state/" + AgentStateStore.FILE_NAME);

        fs.remove("/logs/app.log"); // deleted: the generation ends, is closed, and the agent saves that
        assertTrue(run(first, () -> first.tailer().generations().isEmpty(), 60_000 * NANOS_PER_MILLI));

        // The crash: the state file is the one from before the close.
        fs.create("/state/" + AgentStateStore.FILE_NAME, stateBeforeClose, 0);
        infos.clear();
        warns.clear();
        AgentCore second = agent();
        assertEquals(1, second.tailer().generations().size(), "restored unfinished");
        assertTrue(run(second, () -> second.tailer().generations().isEmpty(), 10_000 * NANOS_PER_MILLI),
            "finished at the server's close; warnings: " + warns + " infos: " + infos);
        assertTrue(infos.stream().anyMatch(l -> l.contains("server already closed this generation at "
            + content.length + " bytes; this one is done")), infos.toString());
        assertEquals(List.of(), warns.stream().filter(w -> w.contains("retrying")).toList());
        assertArrayEquals(content, Files.readAllBytes(tmp.resolve("out/web1/logs/app.log")));
        store.close();
    }

    @Test
    void aClosedGenerationWhoseFileIsBackAtItsPathIsLoggedOnceNotOnEveryRetry() throws Exception {
        store = new OutputStore(RealFs.INSTANCE, tmp.resolve("out"), OutputStore.Config.DEFAULT, s -> { });
        server = new ServerEndpoint(ServerEndpointConfig.defaults(), "secret".getBytes(), 5, store, ServerEvents.NONE);
        fs.mkdirs("/logs");
        fs.mkdirs("/state");
        fs.create("/logs/app.log", "hello world\n".repeat(50).getBytes(), 0);
        AgentCore first = agent();
        assertTrue(run(first, first::idle, 10_000 * NANOS_PER_MILLI));
        byte[] stateBeforeClose = fs.contents("/state/" + AgentStateStore.FILE_NAME);

        fs.rename(Path.of("/logs/app.log"), Path.of("/logs/app.log.1")); // rotated: read to its end and closed
        assertTrue(run(first, () -> first.tailer().generations().isEmpty(), 60_000 * NANOS_PER_MILLI));

        // A crash with the state from before the close, then the operator moves the file back: the server
        // answers GENERATION_CLOSED for as long as the file stays, and the agent asks every second.
        fs.create("/state/" + AgentStateStore.FILE_NAME, stateBeforeClose, 0);
        fs.rename(Path.of("/logs/app.log.1"), Path.of("/logs/app.log"));
        warns.clear();
        AgentCore second = agent();
        run(second, () -> false, 10_000 * NANOS_PER_MILLI);
        assertEquals(1, warns.stream().filter(w -> w.contains("server already closed this generation")).count(),
            "one line for the whole episode, not one per retry: " + warns);
        store.close();
    }
}
