package io.tailwire.agent;

import io.tailwire.engine.AgentConnection;
import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.UnsentLoss;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The agent's side of its streams: which generation has which stream on the current connection, what
 * of it is queued, and how the server's answers move it on (wire-spec.md 6). One {@link GenerationStream}
 * per generation, found by generation or by stream id. {@link AgentCore} hands it the connection's
 * events after each engine call and keeps the state file; a stream's phase is the connection's.
 * Not thread-safe: the agent's thread owns it.
 */
final class AgentStreams {
    /** Bytes read from a file in one call: large reads keep syscalls per byte low. */
    static final int READ_CHUNK = 64 * 1024;
    /** A stream refused for a reason that may pass (disk full at the server) is asked again this late. */
    static final long REOPEN_DELAY_NS = 1_000_000_000L;

    private final AgentCore core;
    private final Tailer tailer;
    private final AgentCore.Listener listener;
    private final ByteBuffer chunk = ByteBuffer.allocateDirect(READ_CHUNK);
    private final UnsafeBuffer chunkView = new UnsafeBuffer(chunk);
    /** One object per generation the agent has dealt with; pruned when the tailer no longer tracks it. */
    private final Map<Generation, GenerationStream> byGeneration = new IdentityHashMap<>();
    /** The same objects, by their stream on the current connection (cleared with the connection). */
    private final Int2ObjectHashMap<GenerationStream> byStreamId = new Int2ObjectHashMap<>();
    /*
     * Lasting conditions, each logged when it starts and when it ends, never per poll or per retry (issue 11
     * item 12): the loop polls every few milliseconds and retries every second.
     */
    private final Map<String, LoggedCondition> readFailures = new HashMap<>();
    private final Map<String, LoggedCondition> streamRefusals = new HashMap<>();
    private long bytesQueued;

    AgentStreams(AgentCore core, Tailer tailer, AgentCore.Listener listener) {
        this.core = core;
        this.tailer = tailer;
        this.listener = listener;
    }

    long bytesQueued() {
        return bytesQueued;
    }

    /**
     * Sends a LOSS_REPORT for bytes of {@code g} if its stream is open on {@code connection} (null when
     * disconnected); false if there is no such stream to report them on.
     */
    boolean reportLoss(AgentConnection connection, Generation g, long from, long to, String reason) {
        GenerationStream s = byGeneration.get(g);
        if (connection == null || s == null || !s.hasStream() || !isOpen(connection.streamPhase(s.streamId))) {
            return false;
        }
        connection.reportLoss(s.streamId, from, to, reason);
        return true;
    }

    /** The connection ended: no generation has a stream, and refusals are asked again on the next one. */
    void connectionClosed() {
        byStreamId.clear();
        for (GenerationStream s : byGeneration.values()) {
            s.streamId = GenerationStream.NO_STREAM;
            s.retrying = false;
        }
    }

    /** Opens a stream for every shippable generation without one; refusals due for a retry become openable. */
    void openStreams(AgentConnection connection, long now) {
        for (Generation g : tailer.shippable()) {
            GenerationStream s = streamOf(g);
            if (s.busy() || s.refusedForGood != null) {
                continue;
            }
            boolean byIdentity = !g.numberConfirmed() || s.matchByIdentity;
            int id = connection.openStream(g.path(), byIdentity ? 0 : g.number(), g.identity(), g.previousLength());
            if (id > 0) {
                s.streamId = id;
                byStreamId.put(id, s);
            } else {
                s.streamId = GenerationStream.UNOPENABLE; // not asked again on this connection
            }
        }
        // Streams refused for a passing reason are retried after a delay, as a fresh open.
        for (GenerationStream s : byGeneration.values()) {
            if (s.retrying && now >= s.retryAtNs) {
                s.retrying = false;
            }
        }
    }

    private GenerationStream streamOf(Generation g) {
        return byGeneration.computeIfAbsent(g, GenerationStream::new);
    }

    /** A stream that carries data and loss reports: answered OK, until STREAM_CLOSED. */
    private static boolean isOpen(AgentConnection.StreamPhase phase) {
        return phase == AgentConnection.StreamPhase.OPEN || phase == AgentConnection.StreamPhase.CLOSING;
    }

    /** Queues file bytes on the connection while it has room, fairly across generations. */
    void pump(AgentConnection connection) {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Generation g : tailer.shippable()) {
                GenerationStream s = byGeneration.get(g);
                if (s == null || !s.hasStream()
                    || connection.streamPhase(s.streamId) != AgentConnection.StreamPhase.OPEN) {
                    continue;
                }
                if (sendSome(connection, s)) {
                    progress = true;
                }
                if (g.isEnded() && s.sendOffset >= g.finalLength()) {
                    connection.closeStream(s.streamId, g.finalLength());
                }
            }
        }
    }

    /** Reads one chunk of the generation (no more than the connection can take) and queues it. */
    private boolean sendSome(AgentConnection connection, GenerationStream s) {
        long available = s.gen.available();
        long space = connection.sendSpace();
        int maxPayload = connection.maxPayload();
        // Growth is discovered by scans (adaptive, down to the minimum poll interval when busy); reading
        // only what a scan saw keeps an idle loop from issuing a read per file per iteration.
        if (available <= 0 || space < Math.min(maxPayload, available)) {
            return false;
        }
        int want = (int) Math.min(READ_CHUNK, space);
        if (s.sendOffset < FileIdentities.FINGERPRINT_MAX) {
            // The first KiB of a generation is what tells it apart after a restart (copytruncate or inode reuse
            // while the agent was down). Ship none of it before the state file holds a fingerprint covering it,
            // or a restart could resume another file's content at this one's offset (found by the simulator).
            int fp = s.gen.identity().getFingerprintLength();
            // Scans re-take the fingerprint only of the file at the path; a rotated or ended one keeps its own.
            if (fp < FileIdentities.FINGERPRINT_MAX && s.gen.state() == Generation.State.ACTIVE) {
                if (s.sendOffset >= fp) {
                    return false; // the next scan fingerprints the new bytes first
                }
                want = (int) Math.min(want, fp - s.sendOffset);
            }
            if (s.persistedFingerprint < fp) {
                core.saveState();
                if (s.persistedFingerprint < fp && core.hasStateFile()) {
                    return false; // the save failed; saveState logged why, the next turn tries again
                }
            }
        }
        chunk.clear().limit(want);
        int n;
        try {
            n = tailer.read(s.gen, s.sendOffset, chunk);
        } catch (IOException e) {
            readFailures.computeIfAbsent(s.gen.path(), p -> new LoggedCondition(p, listener::warn, listener::info))
                .on("cannot read: " + LoggedCondition.describe(e), core.now());
            return false;
        }
        LoggedCondition readFailure = readFailures.remove(s.gen.path());
        if (readFailure != null) {
            readFailure.clear(core.now());
        }
        if (n <= 0) {
            return false;
        }
        int at = 0;
        while (at < n) {
            int len = Math.min(maxPayload, n - at);
            if (!connection.send(s.streamId, s.sendOffset, chunkView, at, len)) {
                // The connection shrank its space under us: what was read past here is read again later.
                break;
            }
            s.sendOffset += len;
            at += len;
            bytesQueued += len;
        }
        return at > 0;
    }

    /** The generation has no stream on this connection any more; the next turn may open one. */
    private void forget(GenerationStream s) {
        if (s.hasStream()) {
            byStreamId.remove(s.streamId);
        }
        s.streamId = GenerationStream.NO_STREAM;
        s.retrying = false;
    }

    /** Refused for a reason that may pass: asked again, as a fresh open, after {@link #REOPEN_DELAY_NS}. */
    private void retryLater(GenerationStream s) {
        forget(s);
        s.retrying = true;
        s.retryAtNs = core.now() + REOPEN_DELAY_NS;
    }

    // ---------------------------------------------------------------------------- connection events

    /** STREAM_REPLY, taken from {@code connection}'s events after the datagram was processed. */
    void onStreamReply(AgentConnection connection, int streamId, StreamStatus status, long resumeOffset,
                       long generation, String message) {
        GenerationStream s = byStreamId.get(streamId);
        if (s == null) {
            return;
        }
        Generation g = s.gen;
        switch (status) {
            case OK -> {
                s.matchByIdentity = false;
                clearRefusal(g);
                if (!g.numberConfirmed() || g.number() != generation) {
                    tailer.adoptGeneration(g, generation);
                    // The server's number must be in the state file before any byte of the stream is sent:
                    // restored without it, the generation reopens by identity, and a server holding fewer
                    // bytes than the fingerprint covers cannot verify it and starts a new generation,
                    // shipping the held bytes twice (system sim finding F3).
                    core.saveSoon();
                }
                // The connection holds the stream open already: a seek into bytes that are gone reports them
                // lost, and the LOSS_REPORT goes out on this stream.
                for (UnsentLoss l : tailer.takeUnsentLosses(g)) {
                    connection.reportLoss(s.streamId, l.getFromOffset(), l.getToOffset(), l.getReason());
                    listener.info(g.path() + " #" + g.number() + ": reported the loss of bytes " + l.getFromOffset()
                        + ".." + l.getToOffset() + " found while it could not be sent (" + l.getReason() + ")");
                }
                long at = tailer.seek(g, resumeOffset);
                s.sendOffset = at;
                tailer.durable(g, resumeOffset);
                core.stateChanged();
                listener.info(g.path() + " #" + g.number() + ": stream " + (resumeOffset == 0 ? "opened" :
                    "resumed at offset " + resumeOffset));
            }
            case STALE_GENERATION -> {
                if (g.isEnded()) {
                    listener.info(g.path() + " #" + g.number() + ": server already holds generation "
                        + generation + "; this one is done");
                    closeGeneration(s);
                } else {
                    // Our numbering is behind the server's (an old state file): let the server match by identity.
                    s.matchByIdentity = true;
                    forget(s);
                }
            }
            case IDENTITY_MISMATCH, PREVIOUS_GENERATION_OPEN -> {
                // Our numbering does not fit what the server holds: let it match by identity (wire-spec 6.1).
                listener.warn(g.path() + " #" + g.number() + ": server refused the generation (" + status + ": "
                    + message + "); reopening it by identity");
                s.matchByIdentity = true;
                forget(s);
            }
            case GENERATION_CLOSED -> {
                if (g.state() == Generation.State.ACTIVE) {
                    // The server closed this generation but the file is still at its path (a close we did not
                    // save before a crash, then the same file came back): ship nothing past the close, and ask
                    // again later, when the file has been rotated away.
                    refusalOf(g).on("#" + g.number() + ": server already closed this generation at " + resumeOffset
                        + " bytes; asking again every " + REOPEN_DELAY_NS / 1_000_000 + " ms", core.now());
                    retryLater(s);
                } else {
                    // We crashed after STREAM_CLOSED and before saving it: the close stands where the server has it.
                    clearRefusal(g);
                    listener.info(g.path() + " #" + g.number() + ": server already closed this generation at "
                        + resumeOffset + " bytes; this one is done");
                    if (!g.numberConfirmed() || g.number() != generation) {
                        tailer.adoptGeneration(g, generation); // the next one is numbered after it
                    }
                    tailer.seek(g, resumeOffset); // bytes it finds gone are logged, not reported: no stream
                    closeGeneration(s);
                }
            }
            case BAD_PATH -> {
                listener.warn(g.path() + ": server refused the path (" + message + "); not shipping it");
                s.refusedForGood = message;
                forget(s);
            }
            default -> {
                refusalOf(g).on("server cannot take the stream now (" + status + "); retrying every "
                        + REOPEN_DELAY_NS / 1_000_000 + " ms", core.now());
                listener.debug(g.path() + ": " + status + ": " + message);
                retryLater(s);
            }
        }
    }

    /** A refusal that lasts across retries is logged when it starts and when it ends, not per retry. */
    private LoggedCondition refusalOf(Generation g) {
        return streamRefusals.computeIfAbsent(g.path(), p -> new LoggedCondition(p, listener::warn, listener::info));
    }

    private void clearRefusal(Generation g) {
        LoggedCondition refusal = streamRefusals.remove(g.path());
        if (refusal != null) {
            refusal.clear(core.now());
        }
    }

    void onDurable(int streamId, long durableOffset) {
        GenerationStream s = byStreamId.get(streamId);
        if (s != null) {
            tailer.durable(s.gen, durableOffset);
            core.stateChanged();
        }
    }

    void onStreamClosed(int streamId, long durableLength) {
        GenerationStream s = byStreamId.get(streamId);
        if (s == null) {
            return;
        }
        if (durableLength >= s.gen.finalLength()) {
            closeGeneration(s);
        } else {
            // The server holds less than we sent (it restarted): reopen and resend from its offset.
            forget(s);
        }
    }

    private void closeGeneration(GenerationStream s) {
        forget(s);
        try {
            tailer.closed(s.gen);
        } catch (IOException | IllegalStateException e) {
            listener.warn("closing " + s.gen + ": " + e.getMessage());
        }
        core.stateChanged();
        // Finishing a generation is what lets the next one ship: record it now, not a second later.
        core.saveState();
    }

    /**
     * Records the fingerprint length of every tracked generation as saved, and drops what is kept about
     * generations the tailer no longer tracks (closed or forgotten), unless one still has a stream.
     */
    void savedFingerprints() {
        Map<Generation, Boolean> tracked = new IdentityHashMap<>();
        for (Generation g : tailer.generations()) {
            tracked.put(g, Boolean.TRUE);
            streamOf(g).persistedFingerprint = g.identity().getFingerprintLength();
        }
        byGeneration.values().removeIf(s -> !tracked.containsKey(s.gen) && !s.busy());
    }
}
