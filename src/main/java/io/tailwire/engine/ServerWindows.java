package io.tailwire.engine;

import java.util.List;

import io.tailwire.wire.Wire;

/**
 * Receive windows (wire-spec.md 7.1): each connection's share of the memory budget and of the socket's
 * buffer among the connections that are active, capped by the rate limiter. Also the heap all reorder rings
 * hold together, which the memory budget bounds.
 */
@EngineThread
final class ServerWindows {
    /** A connection counts as active for the memory share while it sent DATA within this time. */
    static final long ACTIVE_NS = 1_000_000_000L;
    private static final long ACTIVE_SCAN_NS = 100_000_000L;
    /** The limiter is asked again no sooner than this after it refused a window: never a spin. */
    private static final long LIMITER_RETRY_MIN_NS = 1_000_000L;

    private final ServerEndpointConfig cfg;
    WindowLimiter limiter = WindowLimiter.NONE;
    long memoryBudgetBytes = Long.MAX_VALUE;
    long socketBudgetBytes = Long.MAX_VALUE;
    /** Active connections plus those connected in the last second: a herd's newcomers send before they count as active. */
    int socketSharers = 1;
    int activeConnections = 1;
    private long nextActiveScanNs;
    /** A connection became active or joined: count again at the next turn. */
    boolean rescanActive = true;
    /** Heap held by all reorder rings together, bounded by the memory budget (issue 13 item 1). */
    long heldTotal;

    ServerWindows(ServerEndpointConfig cfg) {
        this.cfg = cfg;
    }

    /**
     * Buffer per connection: its configured buffer, but no more than an equal part of the global memory
     * budget among the connections that sent DATA recently (wire-spec.md 7.1).
     */
    long share() {
        return Math.min(cfg.connectionBudgetBytes(), memoryBudgetBytes / Math.max(1, activeConnections));
    }

    long socketShare(long maxPayload) {
        if (socketBudgetBytes == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        return Math.max(maxPayload, socketBudgetBytes / socketSharers);
    }

    /** What the buffers allow: this connection's share of memory minus what it already occupies. */
    long bufferWindow(ServerConnection c) {
        if (c.stalled()) {
            return 0; // storage refuses our bytes (disk full, I/O error): take no more until it recovers
        }
        return Math.max(0, share() - c.bufferedBytes - c.undurableBytes);
    }

    long window(ServerConnection c, long nowNs) {
        long w = Math.min(bufferWindow(c), socketShare(c.maxPayload()));
        return w == 0 ? 0 : Math.max(0, limiter.window(c.agentId, w, c.maxPayload(), nowNs));
    }

    boolean scanDue(long nowNs) {
        return rescanActive || nowNs - nextActiveScanNs >= 0;
    }

    /** Counts the connections that sent DATA within {@link #ACTIVE_NS}: they share the memory budget. */
    void scanActive(List<ServerConnection> conns, long nowNs) {
        int n = 0;
        int starting = 0;
        for (int k = 0; k < conns.size(); k++) {
            ServerConnection c = conns.get(k);
            long t = c.lastDataNs;
            if (t != Long.MIN_VALUE && nowNs - t < ACTIVE_NS) {
                n++;
            } else if (nowNs - c.connectedAtNs < ACTIVE_NS) {
                starting++;
            }
        }
        activeConnections = Math.max(1, n);
        socketSharers = Math.max(1, n + starting);
        nextActiveScanNs = nowNs + ACTIVE_SCAN_NS;
        rescanActive = false;
    }

    /** WELCOME's initial window: the configured one, within a newcomer's memory share and the limiter. */
    int initialWindow(String agentId, int agreedDatagram, long nowNs) {
        long shareForNew = Math.min(cfg.connectionBudgetBytes(), memoryBudgetBytes / (activeConnections + 1L));
        long w = Math.min(cfg.initialWindow(), shareForNew);
        if (socketBudgetBytes != Long.MAX_VALUE) {
            // Shared with the connections that joined in the last second too: the newcomers of a herd all
            // start at once, before any of them counts as active.
            long mps = agreedDatagram - Wire.DATA_HEADER_LENGTH;
            w = Math.min(w, Math.max(mps, socketBudgetBytes / (socketSharers + 1L)));
        }
        w = limiter.window(agentId, w, agreedDatagram - Wire.DATA_HEADER_LENGTH, nowNs);
        if (w < agreedDatagram - Wire.DATA_HEADER_LENGTH) {
            w = 0; // less than one payload is no window (wire-spec.md 7.1)
        }
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, w));
    }

    /** After advertising less than one payload because of the limiter, wake up when it allows more. */
    void armLimiterTimer(ServerConnection c, long nowNs) {
        if (bufferWindow(c) < c.maxPayload()) {
            c.limiterTimerNs = Long.MAX_VALUE; // the buffers limit: draining them reopens the window
            return;
        }
        long t = limiter.whenAllowed(c.agentId, c.maxPayload(), nowNs);
        c.limiterTimerNs = t == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(t, nowNs + LIMITER_RETRY_MIN_NS);
    }
}
