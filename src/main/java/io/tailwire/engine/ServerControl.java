package io.tailwire.engine;

import java.util.ArrayList;
import java.util.List;

import com.google.protobuf.MessageLite;

import io.tailwire.proto.Close;
import io.tailwire.proto.LossReport;
import io.tailwire.proto.StreamClose;
import io.tailwire.proto.StreamClosed;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;
import io.tailwire.proto.StreamStatus;

/**
 * Control messages of live connections (wire-spec.md 6): STREAM_OPEN (batched per turn into one call to the
 * store), STREAM_CLOSE and its STREAM_CLOSED once the final length is durable, LOSS_REPORT, CLOSE. Holds the
 * per-agent stream quota within the store's server-wide limit.
 */
@EngineThread
final class ServerControl {
    private static final int RECENTLY_CLOSED = 256;
    /**
     * The part of the server-wide stream limit (1/4) kept for agents below their fair share: an agent above it
     * gets QUOTA_EXCEEDED once no more than this part is free.
     */
    static final int STREAM_RESERVE_DIVISOR = 4;

    private final ServerEndpointConfig cfg;
    private final StreamStore store;
    private final ServerConnections table;
    private final ServerReplies replies;
    private final ServerCounters counters;
    private final ServerEvents events;
    /** The store's server-wide stream limit, for the per-agent quota; unlimited until set. */
    int serverStreamLimit = Integer.MAX_VALUE;
    /** STREAM_OPENs received this turn; opened together at the start of the next poll (openPending). */
    private final ArrayList<ServerConnection> openConns = new ArrayList<>();
    private final ArrayList<StreamStore.OpenRequest> openRequests = new ArrayList<>();

    ServerControl(ServerEndpointConfig cfg, StreamStore store, ServerConnections table, ServerReplies replies,
                  ServerCounters counters, ServerEvents events) {
        this.cfg = cfg;
        this.store = store;
        this.table = table;
        this.replies = replies;
        this.counters = counters;
        this.events = events;
    }

    void onControl(ServerConnection c, MessageLite body) {
        if (body instanceof StreamOpen open) {
            onStreamOpen(c, open);
        } else if (body instanceof StreamClose close) {
            onStreamClose(c, close);
        } else if (body instanceof Close close) {
            table.close(c, close.getCode(), close.getReason(), false);
        } else if (body instanceof LossReport loss) {
            onLossReport(c, loss);
        }
    }

    private void onStreamClose(ServerConnection c, StreamClose close) {
        ServerStream s = c.streams.get(close.getStreamId());
        if (s != null && s.stored != null) {
            long fin = close.getFinalLength();
            String bad = fin < s.stored.held() ? "below the " + s.stored.held() + " bytes it holds"
                : s.closeFinal >= 0 && fin != s.closeFinal ? "after closing it at " + s.closeFinal
                : s.stored.finalLength() >= 0 && fin != s.stored.finalLength()
                    ? "but it ended at " + s.stored.finalLength()
                : fin > s.lossFrom ? "past its reported loss from " + s.lossFrom : null;
            if (bad != null) {
                table.protocolViolation(c, "STREAM_CLOSE of stream " + s.id + " at " + fin + " " + bad);
                return;
            }
            if (s.closeFinal < 0) {
                c.pendingCloses++;
            }
            s.closeFinal = fin;
            answerCloses(c);
        } else {
            Long durable = c.recentlyClosed.get(close.getStreamId());
            if (durable != null) {
                replies.control(c.address, Integer.MAX_VALUE, c.id, StreamClosed.newBuilder()
                    .setStreamId(close.getStreamId()).setDurableLength(durable).build());
            }
        }
    }

    private void onLossReport(ServerConnection c, LossReport loss) {
        ServerStream s = c.streams.get(loss.getStreamId());
        if (s == null && c.recentlyClosed.containsKey(loss.getStreamId())) {
            return; // a repeat arriving after the close: the agent sends reports before closing the stream
        }
        long from = loss.getFromOffset();
        if (loss.getToOffset() == from) {
            onPossibleLoss(c, s, from, loss.getReason());
            return;
        }
        // Unsigned on the wire: a to_offset of 2^63 or more reads negative here and is capped like any other.
        long max = ServerEndpoint.MAX_LOSS_OFFSET;
        long to = loss.getToOffset() < 0 ? max : Math.min(loss.getToOffset(), max);
        if (s != null && s.stored != null) {
            // Bytes the server holds were not lost, and no file reaches MAX_LOSS_OFFSET: a forged report of
            // 0..2^62 put 4.6e18 into a loss metric (issue 13 item 9; wire-spec 6.5). The agent sends each
            // report three times: count (and log) only bytes not reported before.
            from = Math.max(from < 0 ? max : from, Math.max(s.lossReportedTo, s.stored.held()));
            if (to <= from) {
                return;
            }
            counters.lossReportedBytes += to - from;
            s.lossReportedTo = to;
            s.lossFrom = Math.min(s.lossFrom, loss.getFromOffset());
        }
        events.onLossReport(c.agentId, s == null ? null : s.path, s == null ? 0 : s.generation,
            from, to, loss.getReason());
    }

    /**
     * A possible loss of unknown size (wire-spec 6.5): no byte is known lost, so nothing is counted as lost; the
     * operator is told once per stream (the agent sends each report three times).
     */
    private void onPossibleLoss(ServerConnection c, ServerStream s, long at, String reason) {
        if (s != null) {
            if (s.possibleLossAt == at) {
                return;
            }
            s.possibleLossAt = at;
        }
        counters.possibleLosses++;
        events.onPossibleLoss(c.agentId, s == null ? null : s.path, s == null ? 0 : s.generation, at, reason);
    }

    private void onStreamOpen(ServerConnection c, StreamOpen open) {
        int sid = open.getStreamId();
        if (sid == 0) {
            counters.dropped++;
            return;
        }
        if (Long.compareUnsigned(open.getGeneration(), ServerEndpoint.MAX_GENERATION) > 0) {
            // No honest agent gets there, and the next generation after 2^64-1 wrapped to 0: the victim's
            // whole file was shipped again (issue 13 item 8; wire-spec 6.1).
            table.protocolViolation(c, "STREAM_OPEN of generation " + Long.toUnsignedString(open.getGeneration())
                + " beyond " + ServerEndpoint.MAX_GENERATION);
            return;
        }
        ServerStream s = c.streams.get(sid);
        if (s == null) {
            s = c.refused.get(sid);
        }
        if (s != null) {
            if (!s.open.equals(open)) {
                // Not a repeat (wire-spec.md 6.1): answering with the old reply would bind another file's bytes
                // to this stream's copy.
                table.protocolViolation(c, "STREAM_OPEN repeats stream id " + sid + " for another request");
                return;
            }
            replies.control(c.address, Integer.MAX_VALUE, c.id, s.reply); // idempotent: same answer again
            return;
        }
        if (c.recentlyClosed.containsKey(sid)) {
            counters.dropped++; // a late copy of the open of a stream already closed here: it must not reopen it
            return;
        }
        StreamOpen queued = c.openingIds.get(sid);
        if (queued != null) {
            if (!queued.equals(open)) {
                table.protocolViolation(c, "STREAM_OPEN repeats stream id " + sid + " for another request");
            }
            return; // a copy of an open already queued: its reply comes with the batch
        }
        int held = c.streams.size() + c.openingIds.size();
        if (held >= cfg.maxStreamsPerConnection()) {
            replies.control(c.address, Integer.MAX_VALUE, c.id, StreamReply.newBuilder().setStreamId(sid)
                .setStatus(StreamStatus.TOO_MANY_STREAMS).setMessage("stream table full").build());
            return;
        }
        if (overStreamQuota(held)) {
            counters.quotaRefusals++;
            replies.control(c.address, Integer.MAX_VALUE, c.id, StreamReply.newBuilder().setStreamId(sid)
                .setStatus(StreamStatus.QUOTA_EXCEEDED).setMessage("this agent holds " + held + " streams, its share"
                    + " of the server's " + serverStreamLimit + " while few are free; retry later").build());
            return;
        }
        // Opened with the others of this turn: a store can then make their metadata durable together.
        c.openingIds.put(sid, open);
        openConns.add(c);
        openRequests.add(new StreamStore.OpenRequest(c.agentId, open));
    }

    /**
     * Per-agent stream quota within the server-wide limit (wire-spec 6.1, issue 13 item 3): an agent may hold
     * more than its fair share (limit / (connections + 1)) only while more than a quarter of the limit is free, so
     * one agent can never take the streams the others need.
     */
    private boolean overStreamQuota(int agentHeld) {
        if (serverStreamLimit == Integer.MAX_VALUE) {
            return false;
        }
        // Counting one agent more than are connected: the next to come needs a share too.
        int fairShare = Math.max(1, serverStreamLimit / (table.size() + 1));
        long free = serverStreamLimit - (table.streamsHeld + openRequests.size());
        return agentHeld >= fairShare && free <= serverStreamLimit / STREAM_RESERVE_DIVISOR;
    }

    boolean hasPendingOpens() {
        return !openRequests.isEmpty();
    }

    /** Opens every stream requested since the last poll, in one call to the store, and answers each. */
    void openPending() {
        List<StreamStore.OpenResult> results = store.openAll(openRequests);
        for (int i = 0; i < openRequests.size(); i++) {
            ServerConnection c = openConns.get(i);
            StreamStore.OpenResult r = results.get(i);
            StreamOpen open = openRequests.get(i).request();
            c.openingIds.remove(open.getStreamId());
            if (!table.isOpen(c)) {
                if (r.stream() != null) {
                    r.stream().release(); // the connection closed meanwhile
                }
                continue;
            }
            answerOpen(c, open, r);
        }
        openConns.clear();
        openRequests.clear();
    }

    private void answerOpen(ServerConnection c, StreamOpen open, StreamStore.OpenResult r) {
        int sid = open.getStreamId();
        StoredStream st = r.status() == StreamStatus.OK ? r.stream() : null;
        StreamReply reply = StreamReply.newBuilder().setStreamId(sid).setStatus(r.status())
            .setResumeOffset(r.resumeOffset()).setGeneration(r.generation())
            .setMessage(r.message() == null ? "" : r.message()).build();
        ServerStream s = new ServerStream(sid, open.getPath(), r.generation(), st, reply, open);
        if (st != null) {
            s.reportedDurable = st.durable();
            c.undurableBytes += Math.max(0, st.held() - st.durable());
            c.streams.put(sid, s);
            table.streamsHeld++;
        } else {
            // A refusal is no open stream (issue 13 item 4): in the stream table, ten refusals filled a 10-stream
            // table and locked the agent out until it reconnected. Only its reply is remembered, in a bounded
            // list, so a copy of the open gets the same answer (a STORAGE_ERROR must not turn into an OK for a
            // stream the agent has given up on).
            c.refused.put(sid, s);
            c.refusedOrder.add(sid);
            if (c.refusedOrder.size() > RECENTLY_CLOSED) {
                c.refused.remove(c.refusedOrder.poll());
            }
        }
        replies.control(c.address, Integer.MAX_VALUE, c.id, reply);
        events.onStreamOpened(c.agentId, open.getPath(), r.generation(), r.resumeOffset(), r.status());
    }

    /** STREAM_CLOSED once the final length is durable, or with less when we hold less (wire-spec 6.3). */
    void answerCloses(ServerConnection c) {
        if (c.pendingCloses == 0) {
            return;
        }
        boolean nothingPending = c.deliveredPn == c.tracker.cumulative() && !c.tracker.hasGap();
        ArrayList<ServerStream> done = null;
        for (ServerStream s : c.streams.values()) {
            if (s.closeFinal < 0) {
                continue;
            }
            long durable = s.stored.durable();
            long held = s.stored.held();
            boolean complete = durable >= s.closeFinal;
            boolean short_ = held < s.closeFinal && nothingPending && durable >= held;
            if (complete && !s.stored.close(s.closeFinal)) {
                continue; // not recorded (the store logged why): the agent's repeat of STREAM_CLOSE retries
            }
            if (complete || short_) {
                if (done == null) {
                    done = new ArrayList<>();
                }
                done.add(s);
            }
        }
        if (done == null) {
            return;
        }
        for (ServerStream s : done) {
            long durable = s.stored.durable();
            replies.control(c.address, Integer.MAX_VALUE, c.id,
                StreamClosed.newBuilder().setStreamId(s.id).setDurableLength(durable).build());
            c.undurableBytes -= Math.max(0, s.stored.held() - durable);
            s.stored.release();
            c.streams.remove(s.id);
            table.streamsHeld--;
            c.pendingCloses--;
            c.recentlyClosed.put(s.id, durable);
            c.recentlyClosedOrder.add(s.id);
            if (c.recentlyClosedOrder.size() > RECENTLY_CLOSED) {
                c.recentlyClosed.remove(c.recentlyClosedOrder.poll());
            }
        }
    }
}
