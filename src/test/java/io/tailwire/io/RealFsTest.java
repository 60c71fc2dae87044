package io.tailwire.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RealFsTest {
    @TempDir
    Path dir;

    @Test
    void keyFollowsTheFileAcrossRenameAndANewFileGetsAnotherKey() throws Exception {
        Fs fs = RealFs.INSTANCE;
        Path a = dir.resolve("app.log");
        Files.writeString(a, "one\n");
        FileKey first = fs.key(a);
        fs.rename(a, dir.resolve("app.log.1"));
        assertEquals(first, fs.key(dir.resolve("app.log.1")));
        Files.writeString(a, "two\n");
        assertNotEquals(first, fs.key(a));
        assertNull(fs.key(dir.resolve("missing")));
        assertEquals(-1, fs.size(dir.resolve("missing")));
    }

    @Test
    void positionalWriteThenReadReturnsTheSameBytes() throws Exception {
        Path p = dir.resolve("out");
        try (FsFile f = RealFs.INSTANCE.openWrite(p)) {
            f.write(ByteBuffer.wrap("hello world".getBytes(StandardCharsets.US_ASCII)), 0);
            f.write(ByteBuffer.wrap("W".getBytes(StandardCharsets.US_ASCII)), 6);
            f.force();
            ByteBuffer dst = ByteBuffer.allocate(32);
            assertEquals(11, f.read(dst, 0));
            assertEquals("hello World", new String(dst.array(), 0, 11, StandardCharsets.US_ASCII));
            assertEquals(-1, f.read(ByteBuffer.allocate(4), 11));
        }
    }
}
