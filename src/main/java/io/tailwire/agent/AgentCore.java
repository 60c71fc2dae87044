package io.tailwire.agent;

import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.AgentEvents;
import io.tailwire.io.Fs;
import io.tailwire.proto.AgentState;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.UnsentLoss;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The whole agent without sockets, threads or a wall clock: the tailer, the state file and one
 * connection at a time, with reconnect back-off. The real agent ({@code UdpAgent}) and the simulator
 * drive it the same way: datagrams in through {@link #onDatagram}, datagrams out through {@link #poll},
 * and {@link #nextDeadline} says when to call again.
 */
public final class AgentCore implements AgentEvents {
    /** Bytes read from a file in one call: large reads keep syscalls per byte low. */
    static final int READ_CHUNK = 64 * 1024;
    /** Back-off after a failed connection: 100 ms doubling to 10 s, full jitter (wire-spec.md 8). */
    static final long RECONNECT_MIN_NS = 100_000_000L;
    static final long RECONNECT_MAX_NS = 10_000_000_000L;
    /** A stream refused for a reason that may pass (disk full at the server) is asked again this late. */
    static final long REOPEN_DELAY_NS = 1_000_000_000L;
    /** Dirty state is saved at most this often (each save is an fsync). */
    static final long STATE_SAVE_INTERVAL_NS = 1_000_000_000L;

    /** Where everything the agent decides is reported: log lines and counters. */
    public interface Listener {
        void info(String message);

        void warn(String message);

        default void debug(String message) {
        }
    }

    private enum SlotState { OPENING, OPEN, CLOSING, REFUSED }

    /** One generation's stream on the current connection. */
    private static final class Slot {
        final Generation gen;
        final int streamId;
        SlotState state = SlotState.OPENING;
        /** Next offset to queue on the connection. */
        long sendOffset;
        long retryAt;

        Slot(Generation gen, int streamId) {
            this.gen = gen;
            this.streamId = streamId;
        }
    }

    private final AgentConnectionConfig connectionConfig;
    private final Tailer tailer;
    private final AgentStateStore stateStore;
    private final PollBackoff pollBackoff;
    private final Listener listener;
    private final SplittableRandom random;
    private final ByteBuffer chunk = ByteBuffer.allocateDirect(READ_CHUNK);
    private final UnsafeBuffer chunkView = new UnsafeBuffer(chunk);

    private AgentConnection connection;
    private final Map<Integer, Slot> slotsById = new HashMap<>();
    private final Map<Generation, Slot> slotsByGen = new IdentityHashMap<>();
    /** Generations whose open the server refused for good (bad path): not asked again this run. */
    private final Map<Generation, String> refused = new IdentityHashMap<>();
    /** Fingerprint length of each generation as last written to the state file. */
    private final Map<Generation, Integer> persistedFingerprint = new IdentityHashMap<>();
    /** Generations whose next open asks the server to match by identity (generation 0). */
    private final Map<Generation, Boolean> matchByIdentity = new IdentityHashMap<>();
    /** The time of the call being served; callbacks from the connection run inside it. */
    private long lastNow;
    private long reconnectAt;
    private int failedAttempts;
    private long nextScanAt;
    private boolean stateDirty;
    private boolean saveSoon;
    private long nextStateSaveAt;
    private boolean shuttingDown;
    private long shutdownDeadline;
    private boolean closed;
    private long lossBytes;
    private long lossEvents;
    private long bytesQueued;
    /*
     * Lasting conditions, each logged when it starts and when it ends, never per poll or per retry (issue 11
     * item 12): the loop polls every few milliseconds and retries every second.
     */
    private final LoggedCondition scanFailure;
    private final LoggedCondition stateSaveFailure;
    private final LoggedCondition disconnected;
    private final Map<String, LoggedCondition> readFailures = new HashMap<>();
    private final Map<String, LoggedCondition> streamRefusals = new HashMap<>();

    public AgentCore(AgentConnectionConfig connectionConfig, TailerConfig tailerConfig, Fs fs, Path stateDir,
                     PollBackoff pollBackoff, long seed, Listener listener) {
        this.connectionConfig = connectionConfig;
        this.listener = listener;
        this.pollBackoff = pollBackoff;
        this.random = new SplittableRandom(seed);
        this.tailer = new Tailer(fs, tailerConfig, this::onTailEvent);
        this.stateStore = stateDir == null ? null : new AgentStateStore(fs, stateDir, listener::warn);
        this.scanFailure = new LoggedCondition("scanning files", listener::warn, listener::info);
        this.stateSaveFailure = new LoggedCondition("state file " + (stateStore == null ? "" : stateStore.file()),
            listener::warn, listener::info);
        this.disconnected = new LoggedCondition("server", listener::warn, listener::info);
    }

    /** Loads the state file and restores positions; call once before anything else. */
    public void start(long now) throws IOException {
        if (stateStore != null) {
            AgentState state = stateStore.load();
            if (state.getFilesCount() > 0) {
                listener.info("state: " + state.getFilesCount() + " tracked file generation(s) from "
                    + stateStore.file());
            }
            tailer.restore(state, now);
        }
        tailer.scan(now);
        nextScanAt = now;
        reconnectAt = now;
        nextStateSaveAt = now + STATE_SAVE_INTERVAL_NS;
    }

    // ------------------------------------------------------------------------------------------ I/O in

    public void onDatagram(DirectBuffer buf, int index, int length, long now) {
        lastNow = now;
        if (connection != null) {
            connection.onDatagram(buf, index, length, now);
        }
    }

    /**
     * Does everything due at {@code now} (file scans, reads, reconnects, state saves) and writes the next
     * datagram to send into {@code out}. Returns its length, 0 if there is nothing to send now.
     */
    public int poll(MutableDirectBuffer out, long now) {
        if (closed) {
            return 0;
        }
        lastNow = now;
        if (!shuttingDown && now >= nextScanAt) {
            boolean changed = scan(now);
            nextScanAt = now + pollBackoff.next(changed);
        }
        if (connection == null && now >= reconnectAt && !shuttingDown) {
            connection = new AgentConnection(connectionConfig, now, random.nextLong(), this);
        }
        if (connection != null && connection.state() == AgentConnection.State.CONNECTED) {
            openStreams(now);
            if (!shuttingDown) {
                pump();
            }
        }
        maybeSaveState(now);
        if (shuttingDown && (now >= shutdownDeadline || connection == null || connection.allAcked())) {
            finishShutdown(now);
        }
        int n = connection == null ? 0 : connection.poll(out, now);
        if (connection != null && connection.state() == AgentConnection.State.CLOSED && n == 0) {
            connection = null;
        }
        return n;
    }

    public long nextDeadline() {
        if (closed) {
            return Long.MAX_VALUE;
        }
        long d = shuttingDown ? shutdownDeadline : nextScanAt;
        if (connection == null) {
            d = Math.min(d, reconnectAt);
        } else {
            d = Math.min(d, connection.nextDeadline());
        }
        if (saveSoon) {
            d = lastNow;
        } else if (stateDirty) {
            d = Math.min(d, nextStateSaveAt);
        }
        return d;
    }

    private boolean connected() {
        return connection != null && connection.state() == AgentConnection.State.CONNECTED;
    }

    /** The connection has data to send that only an ACK can let go (see AgentConnection.sendBlocked). */
    public boolean waitingForPeer() {
        return connection != null && connection.sendBlocked();
    }

    /** Scans files and reads at once on the next poll (a file-change notification arrived). */
    public void wakeScan(long now) {
        nextScanAt = Math.min(nextScanAt, now);
    }

    // -------------------------------------------------------------------------------------- shutdown

    /**
     * Stops reading files, lets what is in flight be acknowledged for at most {@code graceNs}, then closes
     * the connection and saves state. {@link #isClosed()} turns true when done.
     */
    public void shutdown(long now, long graceNs) {
        if (!shuttingDown) {
            shuttingDown = true;
            shutdownDeadline = now + graceNs;
            listener.info("shutting down: waiting up to " + graceNs / 1_000_000 + " ms for acknowledgements");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    private void finishShutdown(long now) {
        if (connection != null) {
            connection.close(now);
        }
        saveState();
        try {
            tailer.close();
        } catch (IOException e) {
            listener.warn("closing files: " + e.getMessage());
        }
        closed = true;
    }

    // ---------------------------------------------------------------------------------------- files

    private boolean scan(long now) {
        try {
            boolean changed = tailer.scan(now);
            scanFailure.clear(now);
            return changed;
        } catch (RuntimeException e) {
            scanFailure.on("failed: " + e, now);
            return false;
        }
    }

    private void onTailEvent(TailEvent e) {
        switch (e.kind()) {
            case LOSS -> {
                lossEvents++;
                lossBytes += Math.max(0, e.to() - e.from());
                // An empty range is a loss of unknown size (wire-spec 6.5): say so rather than "0 bytes".
                listener.warn("LOST bytes " + e.from() + ".." + (e.unknownSize() ? "? (possibly; how many is unknown)"
                    : e.to()) + " of " + e.path() + " generation " + e.generation() + ": " + e.reason());
                Generation g = findGeneration(e.path(), e.generation());
                Slot s = g == null ? null : slotsByGen.get(g);
                if (connected() && s != null && (s.state == SlotState.OPEN || s.state == SlotState.CLOSING)) {
                    connection.reportLoss(s.streamId, e.from(), e.to(), e.reason());
                } else if (g != null) {
                    // No open stream to report it on (disconnected, or the generation not open): it goes out
                    // when its stream opens, even after a restart (issue 11 item 10). A generation already
                    // closed (g == null) needs no report: the server ignores reports for closed streams.
                    tailer.holdLoss(g, e.from(), e.to(), e.reason());
                }
            }
            case ERROR -> listener.warn(e.path() + ": " + e.reason());
            case RECOVERED -> listener.info(e.path() + ": " + e.reason());
            default -> listener.info(describe(e));
        }
        if (e.kind() == TailEvent.Kind.ERROR || e.kind() == TailEvent.Kind.RECOVERED) {
            return;
        }
        stateDirty = true;
        // A new or rotated generation must be in the state file before the agent can die: after a
        // restart it is how a file rotated away meanwhile is found again (by device, inode, fingerprint).
        saveSoon = true;
    }

    private static String describe(TailEvent e) {
        String what = switch (e.kind()) {
            case NEW_FILE -> "new generation";
            case ROTATION -> "rotation seen (rename+create)";
            case TRUNCATION -> "truncation seen";
            case DELETION -> "deleted while open";
            case FINISHED -> "generation ended at " + e.to();
            case RESTORED -> "restored";
            default -> e.kind().name().toLowerCase();
        };
        return e.path() + " #" + e.generation() + ": " + what + (e.reason() == null || e.reason().isEmpty()
            ? "" : " (" + e.reason() + ")");
    }

    private Generation findGeneration(String path, long number) {
        for (Generation g : tailer.generations()) {
            if (g.path().equals(path) && g.number() == number) {
                return g;
            }
        }
        return null;
    }

    // -------------------------------------------------------------------------------------- streams

    private void openStreams(long now) {
        for (Generation g : tailer.shippable()) {
            if (slotsByGen.containsKey(g) || refused.containsKey(g)) {
                continue;
            }
            boolean byIdentity = !g.numberConfirmed() || matchByIdentity.containsKey(g);
            int id = connection.openStream(g.path(), byIdentity ? 0 : g.number(), g.identity(), g.previousLength());
            Slot s = new Slot(g, id);
            slotsById.put(id, s);
            slotsByGen.put(g, s);
        }
        // Streams refused for a passing reason are retried after a delay, as a fresh open.
        List<Slot> retry = null;
        for (Slot s : slotsByGen.values()) {
            if (s.state == SlotState.REFUSED && now >= s.retryAt) {
                retry = retry == null ? new ArrayList<>() : retry;
                retry.add(s);
            }
        }
        if (retry != null) {
            for (Slot s : retry) {
                forget(s);
            }
        }
    }

    /** Queues file bytes on the connection while it has room, fairly across generations. */
    private void pump() {
        boolean progress = true;
        while (progress) {
            progress = false;
            for (Generation g : tailer.shippable()) {
                Slot s = slotsByGen.get(g);
                if (s == null || s.state != SlotState.OPEN) {
                    continue;
                }
                if (sendSome(s)) {
                    progress = true;
                }
                if (g.isEnded() && s.sendOffset >= g.finalLength() && s.state == SlotState.OPEN) {
                    connection.closeStream(s.streamId, g.finalLength());
                    s.state = SlotState.CLOSING;
                }
            }
        }
    }

    /** Reads one chunk of the generation (no more than the connection can take) and queues it. */
    private boolean sendSome(Slot s) {
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
            if (persistedFingerprint.getOrDefault(s.gen, -1) < fp) {
                saveState();
                if (persistedFingerprint.getOrDefault(s.gen, -1) < fp && stateStore != null) {
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
                .on("cannot read: " + LoggedCondition.describe(e), lastNow);
            return false;
        }
        LoggedCondition readFailure = readFailures.remove(s.gen.path());
        if (readFailure != null) {
            readFailure.clear(lastNow);
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

    private void forget(Slot s) {
        slotsById.remove(s.streamId);
        slotsByGen.remove(s.gen);
    }

    // ------------------------------------------------------------------------- connection callbacks

    @Override
    public void onConnected(long connectionId, long serverInstance) {
        failedAttempts = 0;
        disconnected.clear(lastNow);
        listener.info("connected (connection " + Long.toHexString(connectionId) + ", server instance "
            + Long.toHexString(serverInstance) + ")");
    }

    @Override
    public void onStreamReply(int streamId, StreamStatus status, long resumeOffset, long generation, String message) {
        Slot s = slotsById.get(streamId);
        if (s == null || s.state != SlotState.OPENING) {
            return;
        }
        Generation g = s.gen;
        switch (status) {
            case OK -> {
                matchByIdentity.remove(g);
                clearRefusal(g);
                if (!g.numberConfirmed() || g.number() != generation) {
                    tailer.adoptGeneration(g, generation);
                    // The server's number must be in the state file before any byte of the stream is sent:
                    // restored without it, the generation reopens by identity, and a server holding fewer
                    // bytes than the fingerprint covers cannot verify it and starts a new generation,
                    // shipping the held bytes twice (system sim finding F3).
                    saveSoon = true;
                }
                // Open before the seek: a seek into bytes that are gone reports them lost, and the LOSS_REPORT
                // goes out on this stream.
                s.state = SlotState.OPEN;
                for (UnsentLoss l : tailer.takeUnsentLosses(g)) {
                    connection.reportLoss(s.streamId, l.getFromOffset(), l.getToOffset(), l.getReason());
                    listener.info(g.path() + " #" + g.number() + ": reported the loss of bytes " + l.getFromOffset()
                        + ".." + l.getToOffset() + " found while it could not be sent (" + l.getReason() + ")");
                }
                long at = tailer.seek(g, resumeOffset);
                s.sendOffset = at;
                tailer.durable(g, resumeOffset);
                stateDirty = true;
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
                    matchByIdentity.put(g, Boolean.TRUE);
                    forget(s);
                }
            }
            case IDENTITY_MISMATCH, PREVIOUS_GENERATION_OPEN -> {
                // Our numbering does not fit what the server holds: let it match by identity (wire-spec 6.1).
                listener.warn(g.path() + " #" + g.number() + ": server refused the generation (" + status + ": "
                    + message + "); reopening it by identity");
                matchByIdentity.put(g, Boolean.TRUE);
                forget(s);
            }
            case GENERATION_CLOSED -> {
                if (g.state() == Generation.State.ACTIVE) {
                    // The server closed this generation but the file is still at its path (a close we did not
                    // save before a crash, then the same file came back): ship nothing past the close, and ask
                    // again later, when the file has been rotated away.
                    refusalOf(g).on("#" + g.number() + ": server already closed this generation at " + resumeOffset
                        + " bytes; asking again every " + REOPEN_DELAY_NS / 1_000_000 + " ms", lastNow);
                    s.state = SlotState.REFUSED;
                    s.retryAt = lastNow + REOPEN_DELAY_NS;
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
                refused.put(g, message);
                forget(s);
            }
            default -> {
                refusalOf(g).on("server cannot take the stream now (" + status + "); retrying every "
                        + REOPEN_DELAY_NS / 1_000_000 + " ms", lastNow);
                listener.debug(g.path() + ": " + status + ": " + message);
                s.state = SlotState.REFUSED;
                s.retryAt = lastNow + REOPEN_DELAY_NS;
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
            refusal.clear(lastNow);
        }
    }

    @Override
    public void onDurable(int streamId, long durableOffset) {
        Slot s = slotsById.get(streamId);
        if (s != null) {
            tailer.durable(s.gen, durableOffset);
            stateDirty = true;
        }
    }

    @Override
    public void onStreamClosed(int streamId, long durableLength) {
        Slot s = slotsById.get(streamId);
        if (s == null || s.state != SlotState.CLOSING) {
            return;
        }
        if (durableLength >= s.gen.finalLength()) {
            closeGeneration(s);
        } else {
            // The server holds less than we sent (it restarted): reopen and resend from its offset.
            forget(s);
        }
    }

    private void closeGeneration(Slot s) {
        forget(s);
        try {
            tailer.closed(s.gen);
        } catch (IOException | IllegalStateException e) {
            listener.warn("closing " + s.gen + ": " + e.getMessage());
        }
        stateDirty = true;
        // Finishing a generation is what lets the next one ship: record it now, not a second later.
        saveState();
    }

    @Override
    public void onClosed(CloseCode code, String reason, long retryAfterMs) {
        slotsById.clear();
        slotsByGen.clear();
        connection = null;
        failedAttempts++;
        long cap = Math.min(RECONNECT_MAX_NS, RECONNECT_MIN_NS << Math.min(20, failedAttempts - 1));
        long wait = random.nextLong(cap + 1) + retryAfterMs * 1_000_000L;
        if (retryAfterMs > 0) {
            wait += random.nextLong(retryAfterMs * 1_000_000L + 1);
        }
        reconnectAt = lastNow + wait;
        String why = code == CloseCode.CLOSE_CODE_UNSPECIFIED ? "" : code.name();
        if (reason != null && !reason.isEmpty()) {
            why = why.isEmpty() ? reason : why + ": " + reason;
        }
        // The first failure is logged; later ones (the server stays away) only at debug, until connected again.
        disconnected.on("connection ended (" + why + "); reconnecting with back-off", lastNow);
        listener.debug("connection to the server ended (" + why + "); reconnecting in " + wait / 1_000_000 + " ms");
    }

    // ---------------------------------------------------------------------------------------- state

    private void maybeSaveState(long now) {
        if (saveSoon || (stateDirty && now >= nextStateSaveAt)) {
            saveSoon = false;
            saveState();
            nextStateSaveAt = now + STATE_SAVE_INTERVAL_NS;
        }
    }

    /** Writes the state file now (atomically). */
    public void saveState() {
        if (stateStore == null) {
            stateDirty = false;
            persistedFingerprint.clear();
            for (Generation g : tailer.generations()) {
                persistedFingerprint.put(g, g.identity().getFingerprintLength());
            }
            return;
        }
        try {
            stateStore.save(tailer.snapshot());
            stateSaveFailure.clear(lastNow);
            stateDirty = false;
            persistedFingerprint.clear();
            for (Generation g : tailer.generations()) {
                persistedFingerprint.put(g, g.identity().getFingerprintLength());
            }
        } catch (IOException e) {
            stateSaveFailure.on("cannot save (" + LoggedCondition.describe(e) + "; positions are kept in memory, the"
                + " server's offsets still prevent loss and duplicates)", lastNow);
        }
    }

    // ---------------------------------------------------------------------------------------- status

    public Tailer tailer() {
        return tailer;
    }

    public AgentConnection connection() {
        return connection;
    }

    public long lossBytes() {
        return lossBytes;
    }

    public long lossEvents() {
        return lossEvents;
    }

    public long bytesQueued() {
        return bytesQueued;
    }

    /**
     * How far one file generation is behind: {@code size} bytes are in the file, {@code read} of them
     * read, {@code durable} of them durable at the server. {@link #behind()} is what is written but not
     * yet safe at the server.
     */
    public record FileLag(String path, long generation, long size, long read, long durable) {
        public long behind() {
            return Math.max(0, size - durable);
        }

        /** One log line for the operator. */
        public String line() {
            return path + " #" + generation + ": " + behind() + " bytes behind (" + size + " in the file, "
                + read + " read, " + durable + " durable at the server)";
        }
    }

    /** Every tracked generation's lag, in the tailer's order. */
    public List<FileLag> fileLags() {
        List<FileLag> out = new ArrayList<>();
        for (Generation g : tailer.generations()) {
            long size = g.isEnded() ? g.finalLength() : g.size();
            out.add(new FileLag(g.path(), g.number(), size, g.readOffset(), g.durableOffset()));
        }
        return out;
    }

    /** True when every tracked generation is shipped and durable up to what was read of it. */
    public boolean idle() {
        if (connection == null || !connection.allAcked()) {
            return false;
        }
        for (Generation g : tailer.generations()) {
            if (g.available() > 0 || g.isEnded() || g.durableOffset() < g.readOffset()) {
                return false;
            }
        }
        return true;
    }
}
