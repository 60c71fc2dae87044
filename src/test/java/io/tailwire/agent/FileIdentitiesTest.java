package io.tailwire.agent;

import io.tailwire.wire.Fingerprint;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tailwire.io.FsFile;
import io.tailwire.io.RealFs;
import io.tailwire.proto.FileIdentity;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileIdentitiesTest {
    @TempDir
    Path dir;

    @Test
    void fnv1a64MatchesThePublishedTestVectors() {
        // Reference values from the FNV authors' test suite (isthe.com/chongo/tech/comp/fnv).
        assertEquals(0xcbf29ce484222325L, Fingerprint.of(new byte[0], 0, 0));
        assertEquals(0xaf63dc4c8601ec8cL, Fingerprint.of("a".getBytes(StandardCharsets.US_ASCII), 0, "a".length()));
        assertEquals(0x85944171f73967e8L, Fingerprint.of("foobar".getBytes(StandardCharsets.US_ASCII), 0, "foobar".length()));
    }

    @Test
    void identityCoversTheFirst1024BytesAndTheFileKey() throws Exception {
        byte[] content = new byte[3000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31 + 7);
        }
        Path p = dir.resolve("f");
        Files.write(p, content);
        try (FsFile f = RealFs.INSTANCE.openRead(p)) {
            FileIdentity id = FileIdentities.of(f);
            assertEquals(1024, id.getFingerprintLength());
            assertEquals(Fingerprint.of(content, 0, 1024), id.getFingerprint());
            assertEquals(RealFs.INSTANCE.key(p).inode(), id.getInode());
            assertEquals(RealFs.INSTANCE.key(p).device(), id.getDevice());
        }
        Path small = dir.resolve("small");
        Files.write(small, Arrays.copyOf(content, 10));
        try (FsFile f = RealFs.INSTANCE.openRead(small)) {
            FileIdentity id = FileIdentities.of(f);
            assertEquals(10, id.getFingerprintLength());
            assertEquals(Fingerprint.of(content, 0, 10), id.getFingerprint());
        }
    }
}
