package io.tailwire.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

import com.google.protobuf.ByteString;

/**
 * Who this agent is, beyond its agent id (wire-spec.md 3, issue 11 item 2): 16 random bytes created once
 * in the state directory (file {@value #FILE}, hex) and sent as Hello.instance_id, so the server can tell
 * this agent restarting (same state, same identity: it takes over its connection) from another agent that
 * was given the same id (refused while this one is connected). Holding an instance also holds an exclusive
 * lock on the state directory ({@value #LOCK_FILE}): two agents sharing one state would share one identity
 * and overwrite each other's offsets, so the second fails at start. The lock ends with the process or
 * {@link #close()}.
 */
public final class InstanceIdentity implements AutoCloseable {
    public static final String FILE = "instance-id";
    public static final String LOCK_FILE = "agent.lock";
    /** Length of the identity: random enough that two agents never draw the same one. */
    public static final int BYTES = 16;

    /** The state directory is locked by another running agent. */
    public static final class InUseException extends IOException {
        InUseException(String message) {
            super(message);
        }
    }

    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ByteString id;

    private InstanceIdentity(FileChannel lockChannel, FileLock lock, ByteString id) {
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.id = id;
    }

    /**
     * Locks {@code stateDir} (created if missing) and reads its identity, creating it on first use.
     *
     * @throws InUseException when another agent holds the directory
     */
    public static InstanceIdentity acquire(Path stateDir) throws IOException {
        Files.createDirectories(stateDir);
        FileChannel ch = FileChannel.open(stateDir.resolve(LOCK_FILE), StandardOpenOption.CREATE,
            StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by another agent in this JVM (tests run several)
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            throw new InUseException("state directory " + stateDir + " is in use by another running agent"
                + " (give each agent its own --state DIR)");
        }
        try {
            return new InstanceIdentity(ch, lock, readOrCreate(stateDir));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static ByteString readOrCreate(Path stateDir) throws IOException {
        Path file = stateDir.resolve(FILE);
        if (Files.exists(file)) {
            String hex = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (hex.length() == 2 * BYTES && hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
                return ByteString.copyFrom(HexFormat.of().parseHex(hex));
            }
            // Damaged: a new identity only means the server refuses us until our old connection times out.
        }
        byte[] b = new byte[BYTES];
        new SecureRandom().nextBytes(b);
        Path tmp = stateDir.resolve(FILE + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            out.write(ByteBuffer.wrap((HexFormat.of().formatHex(b) + "\n").getBytes(StandardCharsets.US_ASCII)));
            out.force(true); // a crash must not leave an empty identity that would change on the next start
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return ByteString.copyFrom(b);
    }

    /** The 16 bytes for Hello.instance_id. */
    public ByteString id() {
        return id;
    }

    /** Releases the state directory. */
    @Override
    public void close() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException ignored) {
            // the lock goes with the channel; nothing else to undo
        }
    }
}
