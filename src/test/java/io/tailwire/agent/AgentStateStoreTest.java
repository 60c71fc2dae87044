package io.tailwire.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.io.RealFs;
import io.tailwire.proto.AgentState;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.TrackedFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentStateStoreTest {
    @TempDir
    Path dir;
    final List<String> warnings = new ArrayList<>();

    static AgentState state(int files, long offset) {
        AgentState.Builder b = AgentState.newBuilder();
        for (int i = 0; i < files; i++) {
            b.addFiles(TrackedFile.newBuilder().setPath("/var/log/f" + i + ".log").setGeneration(i + 1)
                .setIdentity(FileIdentity.newBuilder().setDevice(1).setInode(1000 + i).setFingerprintLength(1024)
                    .setFingerprint(0x1234_5678_9abc_def0L + i))
                .setDurableOffset(offset + i).setReadOffset(offset + 2L * i));
        }
        return b.build();
    }

    @Test
    void missingStateLoadsEmptyAndSavedStateLoadsBack() throws Exception {
        AgentStateStore store = new AgentStateStore(RealFs.INSTANCE, dir.resolve("state"), warnings::add);
        assertEquals(AgentState.getDefaultInstance(), store.load());
        AgentState s = state(3, 4096);
        store.save(s);
        assertEquals(s, store.load());
        store.save(state(5, 1));
        assertEquals(state(5, 1), store.load());
        assertEquals(Set.of("agent-state.pb"), Set.of(dir.resolve("state").toFile().list()), "no temp file left");
        assertTrue(warnings.isEmpty());
    }

    @Test
    void corruptStateIsMovedAsideAndLoadsEmptyWithAWarning() throws Exception {
        AgentStateStore store = new AgentStateStore(RealFs.INSTANCE, dir, warnings::add);
        store.save(state(2, 10));
        byte[] good = Files.readAllBytes(store.file());
        byte[] flipped = good.clone();
        flipped[flipped.length - 3] ^= 0x40; // a bit flip protobuf alone might well accept
        Files.write(store.file(), flipped);
        assertEquals(AgentState.getDefaultInstance(), store.load());
        assertEquals(1, warnings.size());
        assertTrue(Files.exists(dir.resolve("agent-state.pb.corrupt-1")));
        assertTrue(!Files.exists(store.file()));

        Files.write(store.file(), java.util.Arrays.copyOf(good, good.length - 1)); // torn write
        assertEquals(AgentState.getDefaultInstance(), store.load());
        assertTrue(Files.exists(dir.resolve("agent-state.pb.corrupt-2")), "earlier evidence is kept");
        assertEquals(2, warnings.size());
    }

    @Test
    void aCrashAtAnyPointOfASaveLeavesTheOldOrTheNewStateComplete() throws Exception {
        Path stateDir = Path.of("/state");
        AgentState before = state(3, 100);
        AgentState after = state(4, 900);
        boolean sawNew = false;
        for (int failAt = 0; ; failAt++) {
            MemFs fs = new MemFs();
            AgentStateStore store = new AgentStateStore(fs, stateDir, warnings::add);
            store.save(before);
            fs.failAfter = failAt;
            boolean completed;
            try {
                store.save(after);
                completed = true;
            } catch (IOException e) {
                completed = false;
            }
            fs.crash();
            AgentState loaded = new AgentStateStore(fs, stateDir, warnings::add).load();
            assertTrue(loaded.equals(before) || loaded.equals(after), "crash after " + failAt + " operations");
            assertTrue(warnings.isEmpty(), "no corrupt file after a crash at " + failAt + ": " + warnings);
            sawNew |= loaded.equals(after);
            if (completed) {
                assertEquals(after, loaded, "a save that returned is durable");
                break;
            }
        }
        assertTrue(sawNew);
    }
}
