package io.tailwire.agent;

import com.google.protobuf.InvalidProtocolBufferException;
import io.tailwire.io.Fs;
import io.tailwire.io.FsFile;
import io.tailwire.proto.AgentState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * The agent's state file, {@code DIR/agent-state.pb}, replaced atomically: written to a temporary file,
 * forced, renamed over the old one, then the directory is forced. A crash at any point leaves either
 * the old or the new state, complete.
 *
 * <p>Layout: "TWAS" magic, u32 format version (1), u32 payload length, u32 CRC32C of the payload
 * (little-endian), then the {@link AgentState} protobuf. The checksum is there because protobuf parses
 * many corrupt inputs without complaint.
 *
 * <p>A corrupt file is renamed aside to {@code agent-state.pb.corrupt-N} and loading returns an empty
 * state with a warning: the agent keeps shipping (the server's resume offsets and generation-0 identity
 * matching limit the damage to possible duplicates of rotated files), and the evidence is kept.
 * Real I/O errors are thrown, never treated as corruption.
 */
public final class AgentStateStore {
    public static final String FILE_NAME = "agent-state.pb";
    static final int MAGIC = 0x53415754; // "TWAS" read as little-endian
    static final int VERSION = 1;
    static final int HEADER = 16;
    static final int MAX_PAYLOAD = 256 << 20;

    private final Fs fs;
    private final Path dir;
    private final Path file;
    private final Path tmp;
    private final Consumer<String> warnings;

    public AgentStateStore(Fs fs, Path dir, Consumer<String> warnings) {
        this.fs = fs;
        this.dir = dir;
        this.file = dir.resolve(FILE_NAME);
        this.tmp = dir.resolve(FILE_NAME + ".tmp");
        this.warnings = warnings;
    }

    public Path file() {
        return file;
    }

    /** The saved state; empty if there is none; empty (after moving the file aside) if it is corrupt. */
    public AgentState load() throws IOException {
        byte[] bytes;
        try (FsFile f = fs.openRead(file)) {
            if (f == null) {
                return AgentState.getDefaultInstance();
            }
            long size = f.size();
            if (size > HEADER + (long) MAX_PAYLOAD) {
                return quarantine("too large (" + size + " bytes)");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining()) {
                if (f.read(buf, buf.position()) < 0) {
                    break;
                }
            }
            bytes = new byte[buf.position()];
            buf.flip().get(bytes);
        }
        String problem = check(bytes);
        if (problem != null) {
            return quarantine(problem);
        }
        try {
            return AgentState.parseFrom(ByteBuffer.wrap(bytes, HEADER, bytes.length - HEADER));
        } catch (InvalidProtocolBufferException e) {
            return quarantine("unparsable: " + e.getMessage());
        }
    }

    private static String check(byte[] b) {
        if (b.length < HEADER) {
            return "shorter than its header (" + b.length + " bytes)";
        }
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (h.getInt(0) != MAGIC) {
            return "bad magic";
        }
        if (h.getInt(4) != VERSION) {
            return "unknown format version " + h.getInt(4);
        }
        long len = h.getInt(8) & 0xffffffffL;
        if (len != b.length - HEADER) {
            return "length " + len + " but " + (b.length - HEADER) + " payload bytes";
        }
        CRC32C crc = new CRC32C();
        crc.update(b, HEADER, b.length - HEADER);
        if ((int) crc.getValue() != h.getInt(12)) {
            return "checksum mismatch";
        }
        return null;
    }

    private AgentState quarantine(String problem) throws IOException {
        Path aside = null;
        for (int n = 1; aside == null; n++) {
            Path p = dir.resolve(FILE_NAME + ".corrupt-" + n);
            if (fs.size(p) < 0 && !fs.isDirectory(p)) {
                aside = p;
            }
        }
        fs.rename(file, aside);
        fs.forceDirectory(dir);
        warnings.accept("agent state file " + file + " is corrupt (" + problem + "); moved to " + aside
            + "; starting with empty state");
        return AgentState.getDefaultInstance();
    }

    /** Replaces the saved state atomically and durably. */
    public void save(AgentState state) throws IOException {
        byte[] payload = state.toByteArray();
        ByteBuffer buf = ByteBuffer.allocate(HEADER + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(payload);
        buf.putInt(MAGIC).putInt(VERSION).putInt(payload.length).putInt((int) crc.getValue()).put(payload);
        buf.flip();
        fs.createDirectories(dir);
        try (FsFile f = fs.openWrite(tmp)) {
            f.truncate(0);
            f.write(buf, 0);
            // The bytes must be durable before the rename can be: otherwise a crash could leave the new
            // name pointing at an empty or partial file.
            f.force();
        }
        fs.rename(tmp, file);
        fs.forceDirectory(dir);
    }
}
