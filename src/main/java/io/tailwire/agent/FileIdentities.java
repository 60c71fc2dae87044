package io.tailwire.agent;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsFile;
import io.tailwire.proto.FileIdentity;
import java.io.IOException;
import java.nio.ByteBuffer;

/** File identity (wire-spec.md 6.4): device, inode and the FNV-1a 64-bit hash of the first bytes. */
public final class FileIdentities {
    /** How many leading bytes a full fingerprint covers. */
    public static final int FINGERPRINT_MAX = 1024;
    static final long FNV_OFFSET = 0xcbf29ce484222325L;
    static final long FNV_PRIME = 0x100000001b3L;

    private FileIdentities() {
    }

    /** FNV-1a 64 over buf[from, to), continuing from hash {@code h} (start with {@link #FNV_OFFSET}). */
    public static long fnv1a64(long h, ByteBuffer buf, int from, int to) {
        for (int i = from; i < to; i++) {
            h ^= buf.get(i) & 0xff;
            h *= FNV_PRIME;
        }
        return h;
    }

    public static long fnv1a64(byte[] bytes) {
        return fnv1a64(FNV_OFFSET, ByteBuffer.wrap(bytes), 0, bytes.length);
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
        return identity(key, n, fnv1a64(FNV_OFFSET, scratch, 0, n));
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
        return n == len && fnv1a64(FNV_OFFSET, scratch, 0, n) == id.getFingerprint();
    }
}
