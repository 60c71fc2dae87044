package io.tailwire.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import io.tailwire.engine.AgentConnectionConfig;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** The agent knows, per file, how many written bytes are not yet durable at the server. */
class FileLagTest {
    @Test
    void withoutAServerEveryWrittenByteOfAFileIsBehind() throws Exception {
        MemFs fs = new MemFs();
        fs.mkdirs("/logs");
        fs.create("/logs/a.log", new byte[1000], 1);
        AgentCore core = new AgentCore(AgentConnectionConfig.defaults("a1"), TailerConfig.of(List.of("/logs/*.log")),
            fs, null, new PollBackoff(), 1, new AgentCore.Listener() {
                @Override
                public void info(String message) {
                }

                @Override
                public void warn(String message) {
                }
            });
        long now = 1_000_000_000L;
        core.start(now);
        UnsafeBuffer out = new UnsafeBuffer(new byte[65536]);
        core.poll(out, now);
        fs.append("/logs/a.log", new byte[234]);
        core.wakeScan(now);
        core.poll(out, now + 1_000_000);
        List<AgentCore.FileLag> lags = core.fileLags();
        assertEquals(1, lags.size());
        AgentCore.FileLag f = lags.get(0);
        assertEquals("/logs/a.log", f.path());
        assertEquals(1234, f.size());
        assertEquals(0, f.durable());
        assertEquals(1234, f.behind());
        assertTrue(f.line().contains("1234 bytes behind"), f.line());
    }
}
