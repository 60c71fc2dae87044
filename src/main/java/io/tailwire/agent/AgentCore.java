package io.tailwire.agent;

import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.AgentEvent;
import io.tailwire.io.Fs;
import io.tailwire.proto.AgentState;
import io.tailwire.proto.CloseCode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The whole agent without sockets, threads or a wall clock: the tailer, the state file and one
 * connection at a time, with reconnect back-off. The real agent ({@code UdpAgent}) and the simulator
 * drive it the same way: datagrams in through {@link #onDatagram}, datagrams out through {@link #poll},
 * and {@link #nextDeadline} says when to call again. After each call into the connection it takes the
 * connection's queued {@link AgentEvent}s and acts on them, so nothing it does re-enters the connection.
 */
public final class AgentCore {
    /** Back-off after a failed connection: 100 ms doubling to 10 s, full jitter (wire-spec.md 8). */
    static final long RECONNECT_MIN_NS = 100_000_000L;
    static final long RECONNECT_MAX_NS = 10_000_000_000L;
    /** Dirty state is saved at most this often (each save is an fsync). */
    static final long STATE_SAVE_INTERVAL_NS = 1_000_000_000L;

    /** Where everything the agent decides is reported: log lines and counters. */
    public interface Listener {
        void info(String message);

        void warn(String message);

        default void debug(String message) {
        }
    }

    private final AgentConnectionConfig connectionConfig;
    private final Tailer tailer;
    private final AgentStateStore stateStore;
    private final PollBackoff pollBackoff;
    private final Listener listener;
    private final SplittableRandom random;

    private AgentConnection connection;
    private final AgentStreams streams;
    /** The time of the call being served; the connection's events are handled inside it. */
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
    /*
     * Lasting conditions, each logged when it starts and when it ends, never per poll or per retry (issue 11
     * item 12): the loop polls every few milliseconds and retries every second.
     */
    private final LoggedCondition scanFailure;
    private final LoggedCondition stateSaveFailure;
    private final LoggedCondition disconnected;

    public AgentCore(AgentConnectionConfig connectionConfig, TailerConfig tailerConfig, Fs fs, Path stateDir,
                     PollBackoff pollBackoff, long seed, Listener listener) {
        this.connectionConfig = connectionConfig;
        this.listener = listener;
        this.pollBackoff = pollBackoff;
        this.random = new SplittableRandom(seed);
        this.tailer = new Tailer(fs, tailerConfig, this::onTailEvent);
        this.streams = new AgentStreams(this, tailer, listener);
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
            AgentConnection c = connection;
            c.onDatagram(buf, index, length, now);
            handleEvents(c);
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
            connection = new AgentConnection(connectionConfig, now, random.nextLong());
        }
        if (connection != null && connection.state() == AgentConnection.State.CONNECTED) {
            streams.openStreams(connection, now);
            if (!shuttingDown) {
                streams.pump(connection);
            }
        }
        maybeSaveState(now);
        if (shuttingDown && (now >= shutdownDeadline || connection == null || connection.allAcked())) {
            finishShutdown(now);
        }
        int n = 0;
        if (connection != null) {
            AgentConnection c = connection;
            n = c.poll(out, now);
            handleEvents(c);
        }
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
                AgentConnection open = connected() ? connection : null;
                if (g != null && !streams.reportLoss(open, g, e.from(), e.to(), e.reason())) {
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
    // ---------------------------------------------------------------------------- connection events

    /** Acts on every event {@code c} queued (the field may be cleared meanwhile: {@link AgentEvent.Closed}). */
    private void handleEvents(AgentConnection c) {
        for (AgentEvent e = c.pollEvent(); e != null; e = c.pollEvent()) {
            if (e instanceof AgentEvent.Durable d) {
                streams.onDurable(d.streamId(), d.offset());
            } else if (e instanceof AgentEvent.StreamReplied r) {
                streams.onStreamReply(c, r.streamId(), r.status(), r.resumeOffset(), r.generation(), r.message());
            } else if (e instanceof AgentEvent.StreamClosed sc) {
                streams.onStreamClosed(sc.streamId(), sc.durableLength());
            } else if (e instanceof AgentEvent.Connected cn) {
                onConnected(cn.connectionId(), cn.serverInstance());
            } else if (e instanceof AgentEvent.Closed cl) {
                onClosed(cl.code(), cl.reason(), cl.retryAfterMs());
            }
        }
    }

    private void onConnected(long connectionId, long serverInstance) {
        failedAttempts = 0;
        disconnected.clear(lastNow);
        listener.info("connected (connection " + Long.toHexString(connectionId) + ", server instance "
            + Long.toHexString(serverInstance) + ")");
    }

    private void onClosed(CloseCode code, String reason, long retryAfterMs) {
        streams.connectionClosed();
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

    /** The time of the call being served (the connection's events are handled inside it). */
    long now() {
        return lastNow;
    }

    /** Something the state file records changed: saved within {@link #STATE_SAVE_INTERVAL_NS}. */
    void stateChanged() {
        stateDirty = true;
    }

    /** Something the state file records changed and must be saved before anything else is shipped. */
    void saveSoon() {
        saveSoon = true;
    }

    boolean hasStateFile() {
        return stateStore != null;
    }

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
            streams.savedFingerprints();
            return;
        }
        try {
            stateStore.save(tailer.snapshot());
            stateSaveFailure.clear(lastNow);
            stateDirty = false;
            streams.savedFingerprints();
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
        return streams.bytesQueued();
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
