package io.tailwire.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SimFsTest {
    static final Path DIR = Path.of("/var/log/app");
    static final Path LOG = DIR.resolve("app.log");

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static SimFs fsWithDir() throws IOException {
        SimFs fs = new SimFs(1);
        fs.createDirectories(DIR);
        return fs;
    }

    static String read(FsFile f) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate((int) f.size());
        int n = f.read(dst, 0);
        return n < 0 ? "" : new String(dst.array(), 0, n, StandardCharsets.UTF_8);
    }

    @Test
    void forcedDataOfADirectoryForcedFileSurvivesACrash() throws IOException {
        SimFs fs = fsWithDir();
        FileKey key;
        try (FsFile f = fs.openWrite(LOG)) {
            f.write(ByteBuffer.wrap(b("durable\n")), 0);
            f.force();
            key = f.key();
        }
        fs.forceDirectory(DIR);
        fs.crash();
        assertArrayEquals(b("durable\n"), fs.readAll(LOG));
        assertEquals(key, fs.key(LOG));
    }

    @Test
    void unforcedDataIsLostOnACrashAndForcedDataBeforeItStays() throws IOException {
        SimFs fs = fsWithDir();
        try (FsFile f = fs.openWrite(LOG)) {
            f.write(ByteBuffer.wrap(b("one\n")), 0);
            f.force();
            f.write(ByteBuffer.wrap(b("two\n")), 4);
            f.write(ByteBuffer.wrap(b("ONE")), 0);
        }
        fs.forceDirectory(DIR);
        assertArrayEquals(b("ONE\ntwo\n"), fs.readAll(LOG));
        fs.crash();
        assertArrayEquals(b("one\n"), fs.readAll(LOG));
        assertEquals(4, fs.usedBytes());
    }

    @Test
    void aFileCreatedWithoutForcingItsDirectoryDisappearsOnACrash() throws IOException {
        SimFs fs = fsWithDir();
        try (FsFile f = fs.openWrite(LOG)) {
            f.write(ByteBuffer.wrap(b("x")), 0);
            f.force();
        }
        fs.crash();
        assertNull(fs.key(LOG));
        assertTrue(fs.isDirectory(DIR), "directories are durable on creation");
        assertEquals(0, fs.usedBytes());
    }

    @Test
    void aRenameIsUndoneByACrashUnlessTheDirectoryWasForced() throws IOException {
        SimFs fs = fsWithDir();
        Path tmp = DIR.resolve("state.tmp");
        Path state = DIR.resolve("state");
        fs.writeFile(state, b("old"));
        try (FsFile f = fs.openWrite(state)) {
            f.force();
        }
        fs.forceDirectory(DIR);
        fs.writeFile(tmp, b("new"));
        try (FsFile f = fs.openWrite(tmp)) {
            f.force();
        }
        fs.rename(tmp, state);
        fs.crash();
        assertArrayEquals(b("old"), fs.readAll(state), "rename without directory fsync must not survive");

        fs.writeFile(tmp, b("new"));
        try (FsFile f = fs.openWrite(tmp)) {
            f.force();
        }
        fs.rename(tmp, state);
        fs.forceDirectory(DIR);
        fs.crash();
        assertArrayEquals(b("new"), fs.readAll(state));
        assertNull(fs.key(tmp));
    }

    @Test
    void withImmediateNamespaceDurabilityOnlyFileContentNeedsForce() throws IOException {
        SimFs fs = fsWithDir();
        fs.setNamespaceDurableImmediately(true);
        try (FsFile f = fs.openWrite(LOG)) {
            f.write(ByteBuffer.wrap(b("abc")), 0);
            f.force();
        }
        fs.rename(LOG, DIR.resolve("app.log.1"));
        fs.crash();
        assertNull(fs.key(LOG));
        assertArrayEquals(b("abc"), fs.readAll(DIR.resolve("app.log.1")));
    }

    @Test
    void diskFullRaisesNoSpaceLeftOnDeviceAndWritesSucceedAfterSpaceIsFreed() throws IOException {
        SimFs fs = fsWithDir();
        fs.setCapacity(100);
        Path big = DIR.resolve("big");
        fs.writeFile(big, new byte[90]);
        FsFile f = fs.openWrite(LOG);
        IOException e = assertThrows(IOException.class, () -> f.write(ByteBuffer.wrap(new byte[20]), 0));
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertEquals(0, f.size(), "a failed write writes nothing");
        f.write(ByteBuffer.wrap(new byte[10]), 0); // exactly fills the disk
        assertThrows(IOException.class, () -> f.write(ByteBuffer.wrap(new byte[1]), 10));
        f.write(ByteBuffer.wrap(b("overwrite")), 0); // no growth, no new space needed
        fs.delete(big);
        assertEquals(10, fs.usedBytes());
        f.write(ByteBuffer.wrap(new byte[20]), 10);
        assertEquals(30, f.size());
        fs.setCapacity(30);
        assertThrows(IOException.class, () -> f.write(ByteBuffer.wrap(new byte[1]), 30));
        fs.setCapacity(Long.MAX_VALUE);
        f.write(ByteBuffer.wrap(new byte[1]), 30);
        f.close();
    }

    @Test
    void deleteWhileOpenKeepsTheHandleWorkingAndTheSpaceUntilClose() throws IOException {
        SimFs fs = fsWithDir();
        fs.append(LOG, b("line 1\n"));
        FsFile reader = fs.openRead(LOG);
        FileKey key = reader.key();
        fs.delete(LOG);
        assertNull(fs.key(LOG));
        assertFalse(fs.exists(LOG));
        assertEquals("line 1\n", read(reader));
        assertEquals(key, reader.key());
        assertEquals(7, fs.usedBytes(), "space held by the open handle");
        fs.append(LOG, b("new file\n"));
        assertNotEquals(key, fs.key(LOG));
        assertEquals("line 1\n", read(reader), "the old handle still sees the old file");
        reader.close();
        assertEquals(9, fs.usedBytes());
        assertThrows(IOException.class, () -> reader.size());
    }

    @Test
    void renameKeepsTheKeyAndANewFileAtTheOldNameGetsAnotherKey() throws IOException {
        SimFs fs = fsWithDir();
        fs.append(LOG, b("a"));
        FileKey k = fs.key(LOG);
        FsFile open = fs.openRead(LOG);
        fs.rename(LOG, DIR.resolve("app.log.1"));
        assertEquals(k, fs.key(DIR.resolve("app.log.1")));
        assertEquals(k, open.key());
        fs.append(LOG, b("b"));
        assertNotEquals(k, fs.key(LOG));
        assertEquals(List.of(LOG, DIR.resolve("app.log.1")), fs.list(DIR));
        open.close();
    }

    @Test
    void inodeNumbersAreReusedAfterDeleteOnlyWhenConfigured() throws IOException {
        for (boolean reuse : new boolean[] {false, true}) {
            SimFs fs = fsWithDir();
            fs.setReuseInodes(reuse);
            fs.append(LOG, b("a"));
            fs.forceDirectory(DIR);
            FileKey first = fs.key(LOG);
            fs.delete(LOG);
            fs.forceDirectory(DIR); // the number is free only once no durable name can bring the file back
            fs.append(LOG, b("b"));
            assertEquals(reuse, first.equals(fs.key(LOG)), "reuse=" + reuse);
        }
    }

    @Test
    void anInodeStillNamedDurablyIsNotReusedBeforeTheDeleteIsDurable() throws IOException {
        SimFs fs = fsWithDir();
        fs.setReuseInodes(true);
        fs.append(LOG, b("a"));
        fs.forceDirectory(DIR);
        FileKey first = fs.key(LOG);
        fs.delete(LOG);
        fs.append(DIR.resolve("other"), b("b"));
        assertNotEquals(first, fs.key(DIR.resolve("other")));
        fs.crash();
        assertEquals(first, fs.key(LOG), "the undone delete brings back the same file");
    }

    @Test
    void handlesOpenedBeforeACrashAreDead() throws IOException {
        SimFs fs = fsWithDir();
        FsFile f = fs.openWrite(LOG);
        fs.forceDirectory(DIR);
        fs.crash();
        assertThrows(IOException.class, () -> f.write(ByteBuffer.wrap(b("x")), 0));
        assertThrows(IOException.class, f::size);
        f.close(); // closing a dead handle is harmless
        assertEquals(0, fs.openHandleCount());
    }

    @Test
    void tornCrashKeepsTheForcedContentPlusAPrefixOfTheUnforcedAppend() throws IOException {
        long seed = 4242;
        SimRandom random = new SimRandom(seed);
        boolean sawPartial = false;
        for (int i = 0; i < 50; i++) {
            SimFs fs = fsWithDir();
            byte[] forced = b("forced|");
            byte[] extra = b("0123456789abcdef");
            fs.append(LOG, forced);
            try (FsFile f = fs.openWrite(LOG)) {
                f.force();
            }
            fs.forceDirectory(DIR);
            fs.append(LOG, extra);
            fs.crash(random);
            byte[] after = fs.readAll(LOG);
            assertTrue(after.length >= forced.length && after.length <= forced.length + extra.length,
                "seed " + seed);
            assertArrayEquals(forced, Arrays.copyOf(after, forced.length), "seed " + seed);
            assertArrayEquals(Arrays.copyOf(extra, after.length - forced.length),
                Arrays.copyOfRange(after, forced.length, after.length), "seed " + seed);
            sawPartial |= after.length > forced.length && after.length < forced.length + extra.length;
        }
        assertTrue(sawPartial, "seed " + seed);
    }

    @Test
    void copyTruncateLeavesTheOriginalKeyEmptyAndTheCopyWithTheContent() throws IOException {
        SimFs fs = fsWithDir();
        fs.append(LOG, b("abc\n"));
        FileKey k = fs.key(LOG);
        FsFile tail = fs.openRead(LOG);
        fs.copyTruncate(LOG, DIR.resolve("app.log.1"));
        assertEquals(k, fs.key(LOG));
        assertEquals(0, fs.size(LOG));
        assertEquals(0, tail.size(), "a tailer sees the truncation through its handle");
        assertArrayEquals(b("abc\n"), fs.readAll(DIR.resolve("app.log.1")));
        fs.append(LOG, b("d"));
        assertEquals(1, tail.size());
        tail.close();
    }

    @Test
    void writeBeyondTheEndLeavesAHoleOfZerosAndTruncateNeverExtends() throws IOException {
        SimFs fs = fsWithDir();
        try (FsFile f = fs.openWrite(LOG)) {
            f.write(ByteBuffer.wrap(b("ab")), 0);
            f.truncate(1);
            f.write(ByteBuffer.wrap(b("z")), 4);
            assertArrayEquals(new byte[] {'a', 0, 0, 0, 'z'}, fs.readAll(LOG));
            f.truncate(100);
            assertEquals(5, f.size());
            assertEquals(-1, f.read(ByteBuffer.allocate(4), 5));
        }
    }

    @Test
    void killingAProcessClosesItsHandlesButKeepsDataAndOtherProcessesHandles() throws IOException {
        SimFs fs = fsWithDir();
        SimFs.ProcessView agent = fs.process("agent");
        SimFs.ProcessView app = fs.process("app");
        FsFile writer = app.openWrite(LOG);
        writer.write(ByteBuffer.wrap(b("hello")), 0);
        FsFile reader = agent.openRead(LOG);
        fs.delete(LOG);
        agent.kill();
        assertThrows(IOException.class, reader::size);
        assertThrows(IOException.class, () -> agent.openRead(LOG));
        assertEquals(5, writer.size());
        assertEquals(5, fs.usedBytes(), "the app still holds the deleted file open");
        app.kill();
        assertEquals(0, fs.usedBytes());
        assertEquals(0, fs.openHandleCount());
    }

    @Test
    void separateInstancesShareNothing() throws IOException {
        SimFs one = new SimFs(1);
        SimFs two = new SimFs(2);
        one.createDirectories(DIR);
        two.createDirectories(DIR);
        one.append(LOG, b("one"));
        assertNull(two.key(LOG));
        two.append(LOG, b("two!"));
        assertNotEquals(one.key(LOG), two.key(LOG));
        one.crash();
        assertArrayEquals(b("two!"), two.readAll(LOG));
        assertEquals(1, one.crashCount());
        assertEquals(0, two.crashCount());
    }

    @Test
    void missingParentsMissingFilesAndDirectoryMisuseAreReported() throws IOException {
        SimFs fs = new SimFs(1);
        assertThrows(NoSuchFileException.class, () -> fs.openWrite(LOG));
        assertNull(fs.openRead(LOG));
        assertEquals(-1, fs.size(LOG));
        assertThrows(NoSuchFileException.class, () -> fs.rename(LOG, DIR.resolve("x")));
        fs.createDirectories(DIR);
        assertTrue(fs.isDirectory(Path.of("/var")));
        assertEquals(List.of(Path.of("/var")), fs.list(Path.of("/")));
        assertThrows(IOException.class, () -> fs.openWrite(DIR));
        fs.append(LOG, b("x"));
        assertThrows(IOException.class, () -> fs.delete(DIR));
        assertThrows(IOException.class, () -> fs.createDirectories(LOG));
        fs.delete(Path.of("/nothing/here")); // like deleteIfExists
        assertEquals(LOG, fs.realPath(DIR.resolve("../app/./app.log")));
    }
}
