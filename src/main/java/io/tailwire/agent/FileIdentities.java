package io.tailwire.agent;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsFile;
import io.tailwire.proto.FileIdentity;
import io.tailwire.wire.Fingerprint;
import java.io.IOException;
import java.nio.ByteBuffer;

/** File identity (wire-spec.md 6.4): device, inode and the FNV-1a 64-bit hash of the first bytes. */
public final class FileIdentities {
    /** How many leading bytes a full fingerprint covers. */
    public static final int FINGERPRINT_MAX = Fingerprint.MAX_BYTES;

    private FileIdentities() {
    }

    /**
     * Reads up to {@code max} leading bytes of the file into {@code scratch} (cleared first, at least
     * {@code max} capacity); returns how many were read (fewer if the file is shorter).
     */
    static int readPrefix(FsFile f, ByteBuffer scratch, int max) throws IOException {
        scratch.clear().limit(max);
        while (scratch.hasRemaining()) {
            int n = f.read(scratch, scratch.position());
            if (n <= 0) {
                break;
            }
        }
        return scratch.position();
    }

    /** Identity of an open file as it is now: fingerprint over min(size, 1024) bytes. */
    public static FileIdentity of(FsFile f) throws IOException {
        return of(f, ByteBuffer.allocate(FINGERPRINT_MAX));
    }

    static FileIdentity of(FsFile f, ByteBuffer scratch) throws IOException {
        FileKey key = f.key();
        int n = readPrefix(f, scratch, FINGERPRINT_MAX);
        return identity(key, n, Fingerprint.of(scratch, 0, n));
    }

    static FileIdentity identity(FileKey key, int length, long fingerprint) {
        return FileIdentity.newBuilder().setDevice(key.device()).setInode(key.inode())
            .setFingerprintLength(length).setFingerprint(fingerprint).build();
    }

    static FileKey keyOf(FileIdentity id) {
        return new FileKey(id.getDevice(), id.getInode());
    }

    /**
     * True if the file's first {@code id.fingerprint_length} bytes still hash to {@code id.fingerprint}
     * (a file now shorter than that does not match). The key is not compared.
     */
    static boolean prefixMatches(FsFile f, FileIdentity id, ByteBuffer scratch) throws IOException {
        int len = id.getFingerprintLength();
        int n = readPrefix(f, scratch, len);
        return n == len && Fingerprint.of(scratch, 0, n) == id.getFingerprint();
    }
}
