package io.tailwire.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 11 item 2, agent side: the instance identity survives restarts and one state directory has one agent. */
class InstanceIdentityTest {
    @TempDir
    Path tmp;

    @Test
    void theIdentityIsCreatedOnceAndReadBackOnRestart() throws Exception {
        Path state = tmp.resolve("state");
        com.google.protobuf.ByteString first;
        try (InstanceIdentity a = InstanceIdentity.acquire(state)) {
            first = a.id();
            assertEquals(InstanceIdentity.BYTES, first.size());
        }
        try (InstanceIdentity again = InstanceIdentity.acquire(state)) {
            assertEquals(first, again.id(), "a restart from the same state is the same instance");
        }
        try (InstanceIdentity other = InstanceIdentity.acquire(tmp.resolve("other"))) {
            assertNotEquals(first, other.id(), "another state directory is another instance");
        }
    }

    @Test
    void aSecondAgentOnTheSameStateDirectoryFailsToStart() throws Exception {
        Path state = tmp.resolve("shared");
        try (InstanceIdentity holder = InstanceIdentity.acquire(state)) {
            InstanceIdentity.InUseException e = assertThrows(InstanceIdentity.InUseException.class,
                () -> InstanceIdentity.acquire(state));
            assertEquals("state directory " + state + " is in use by another running agent"
                + " (give each agent its own --state DIR)", e.getMessage());
        }
        InstanceIdentity.acquire(state).close(); // released with its holder
    }

    @Test
    void aDamagedIdentityFileIsReplacedNotFatal() throws Exception {
        Path state = Files.createDirectories(tmp.resolve("damaged"));
        Files.writeString(state.resolve(InstanceIdentity.FILE), "not hex\n");
        try (InstanceIdentity a = InstanceIdentity.acquire(state)) {
            assertEquals(InstanceIdentity.BYTES, a.id().size());
            assertEquals(2 * InstanceIdentity.BYTES + 1, Files.size(state.resolve(InstanceIdentity.FILE)));
        }
    }
}
