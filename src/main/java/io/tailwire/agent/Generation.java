package io.tailwire.agent;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsFile;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.UnsentLoss;
import java.util.ArrayList;
import java.util.List;

/**
 * One generation of one source path: one stream on the wire (wire-spec.md 6). Owned and mutated by
 * {@link Tailer}; the runtime reads its state through the getters.
 */
public final class Generation {
    public enum State {
        /** The file now at the path; may still grow. */
        ACTIVE,
        /** Rotated away or deleted; its open handle is read to the end, then it finishes. */
        ROTATED,
        /** Final length known: once everything up to it is shipped, close the stream. */
        ENDED,
        /** The server confirmed the close; forgotten by the tailer. */
        CLOSED
    }

    final PathTrack track;
    long number;
    FileIdentity identity;
    FileKey key;
    /** Null once the bytes can no longer be read (content destroyed, handle dropped, file gone). */
    FsFile handle;
    /**
     * Device and inode of the file {@link #handle} reads when it is not the generation's own file but the copy
     * copytruncate made of it (app.log.1): the rest of the generation is shipped from there. Null otherwise.
     */
    FileKey copyKey;
    /**
     * Restored from state with its file gone: bytes written after the agent's last look may be lost too, and
     * nothing tells how many. Reported as a loss of unknown size once the server's resume offset is known.
     */
    boolean tailUnknown;
    State state;
    /** Largest size observed. */
    long size;
    /** Next offset the runtime reads (high-water mark of bytes handed out, or the server's resume). */
    long readOffset;
    long durableOffset;
    long finalLength = -1;
    long previousLength;
    /** When the file last grew, or was rotated away (the grace period counts from the later). */
    long lastChangeNanos;
    long rotatedAtNanos;
    long lastReadSeq;
    long lastVerifyNanos;
    boolean numberConfirmed;
    /** A read saw the first bytes change: the next scan treats it as a truncation. */
    boolean suspect;
    /** Losses found while no LOSS_REPORT could be sent: kept (and saved) until the stream is open again. */
    final List<UnsentLoss> unsentLosses = new ArrayList<>();

    Generation(PathTrack track, long number, FileIdentity identity, FsFile handle, State state, long now) {
        this.track = track;
        this.number = number;
        this.identity = identity;
        this.key = FileIdentities.keyOf(identity);
        this.handle = handle;
        this.state = state;
        this.lastChangeNanos = now;
        this.lastVerifyNanos = now;
    }

    /** Device and inode of the file the handle reads: the copy's, if the generation is read from one. */
    FileKey heldKey() {
        return copyKey != null ? copyKey : key;
    }

    /** Source path as sent in STREAM_OPEN. */
    public String path() {
        return track.name;
    }

    /** Generation number for STREAM_OPEN; send 0 instead while {@link #numberConfirmed()} is false. */
    public long number() {
        return number;
    }

    /**
     * False when the agent had no saved state for this path: the server may already know newer
     * generations, so open with generation 0 (match by identity) and pass the reply's generation to
     * {@link Tailer#adoptGeneration}.
     */
    public boolean numberConfirmed() {
        return numberConfirmed;
    }

    /** Identity to send at open (the fingerprint is re-taken while the file is under 1024 bytes). */
    public FileIdentity identity() {
        return identity;
    }

    public State state() {
        return state;
    }

    /** Largest size seen (for ended generations, at least the final length). */
    public long size() {
        return size;
    }

    public long readOffset() {
        return readOffset;
    }

    public long durableOffset() {
        return durableOffset;
    }

    /** Bytes known to be readable now past the read offset. */
    public long available() {
        long end = state == State.ENDED ? finalLength : size;
        return handle == null ? 0 : Math.max(0, end - readOffset);
    }

    public boolean isEnded() {
        return state == State.ENDED || state == State.CLOSED;
    }

    /** The generation ends here (STREAM_CLOSE final_length); -1 until {@link #isEnded()}. */
    public long finalLength() {
        return finalLength;
    }

    /** True when ended and everything up to the final length was read: time to send STREAM_CLOSE. */
    public boolean fullyRead() {
        return isEnded() && readOffset >= finalLength;
    }

    /** Final length of the previous generation of this path (STREAM_OPEN previous_generation_length). */
    public long previousLength() {
        return previousLength;
    }

    @Override
    public String toString() {
        return track.name + "#" + number + "[" + state + " read=" + readOffset + " size=" + size
            + (finalLength >= 0 ? " final=" + finalLength : "") + "]";
    }
}
