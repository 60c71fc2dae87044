package io.tailwire.engine;

import java.util.ArrayDeque;

import com.google.protobuf.MessageLite;

import io.tailwire.engine.AgentConnection.StreamPhase;
import io.tailwire.engine.AgentConnection.Timer;
import io.tailwire.proto.LossReport;
import io.tailwire.proto.StreamClose;
import io.tailwire.wire.ControlCodec;

import org.agrona.MutableDirectBuffer;

/**
 * The agent's control messages after the handshake and their repeats (wire-spec.md 6, 8): STREAM_OPEN
 * and STREAM_CLOSE until answered, LOSS_REPORT three times. Keeps {@link Timer#CONTROL} at the earliest
 * due (re)send. Not thread-safe: the connection's thread owns it.
 */
final class ControlSender {
    /**
     * STREAM_OPEN and STREAM_CLOSE are repeated no sooner than this (wire-spec.md 8): the server answers them
     * only once its metadata or bytes are durable, which takes 70-340 ms on a busy disk, while the data RTO is
     * ~20 ms on a LAN; repeating on the data RTO sent 2-3 needless copies per new file.
     */
    static final long CONTROL_RTO_FLOOR_NS = 400_000_000L;

    private static final class PendingLoss {
        /** LOSS_REPORT is best effort: this many copies, one RTO apart (wire-spec.md 6.5). */
        static final int COPIES = 3;
        final LossReport report;
        int remaining = COPIES;
        /** When the next copy is due; unused before the first copy, which is due at once. */
        long deadlineNs;

        PendingLoss(LossReport report) {
            this.report = report;
        }

        boolean unsent() {
            return remaining == COPIES;
        }
    }

    private final AgentStreamTable streams;
    private final TimerTable<Timer> timers;
    private final RttEstimator rtt;
    private final long maxRtoNs;
    private final ArrayDeque<PendingLoss> losses = new ArrayDeque<>();

    ControlSender(AgentStreamTable streams, TimerTable<Timer> timers, RttEstimator rtt, long maxRtoNs) {
        this.streams = streams;
        this.timers = timers;
        this.rtt = rtt;
        this.maxRtoNs = maxRtoNs;
    }

    /** Queues a LOSS_REPORT: its first copy is due at once. */
    void reportLoss(LossReport report) {
        losses.add(new PendingLoss(report));
        timers.setDue(Timer.CONTROL);
    }

    /** A stream's control message became due (opened, closing, or its data all acknowledged while closing). */
    void streamChanged() {
        timers.setDue(Timer.CONTROL);
    }

    /** Sends the first due control message (STREAM_OPEN, STREAM_CLOSE, LOSS_REPORT) into {@code out}; 0 if none. */
    int poll(MutableDirectBuffer out, int maxDatagram, long connectionId, long nowNs) {
        long next = Long.MAX_VALUE;
        boolean unsentLeft = false;
        int len = 0;
        // Loss reports first: a STREAM_CLOSE queued in the same turn must not overtake the report of bytes
        // that stream lost, or the server would no longer know the stream it names.
        for (PendingLoss p : losses) {
            if (len == 0 && (p.unsent() || nowNs - p.deadlineNs >= 0)) {
                len = ControlCodec.encode(out, 0, maxDatagram, connectionId, p.report);
                p.remaining--;
                p.deadlineNs = nowNs + rtt.rtoNs();
            }
            if (p.unsent()) {
                unsentLeft = true;
            } else if (p.remaining > 0) {
                next = Math.min(next, p.deadlineNs);
            }
        }
        losses.removeIf(p -> p.remaining <= 0);
        for (AgentStreamTable.Stream s : streams.all()) {
            if (!s.wantsControl()) {
                continue;
            }
            if (len == 0 && s.due(nowNs)) {
                MessageLite m = s.phase == StreamPhase.OPENING ? s.open
                    : StreamClose.newBuilder().setStreamId(s.id).setFinalLength(s.finalLength).build();
                len = ControlCodec.encode(out, 0, maxDatagram, connectionId, m);
                s.deadlineNs = nowNs + controlRtoNs(s.backoff++);
            }
            if (s.backoff == 0) {
                unsentLeft = true;
            } else {
                next = Math.min(next, s.deadlineNs);
            }
        }
        if (unsentLeft) {
            timers.setDue(Timer.CONTROL); // an item not sent yet (another went first): due on the next poll
        } else if (next == Long.MAX_VALUE) {
            timers.stop(Timer.CONTROL);
        } else {
            timers.set(Timer.CONTROL, next);
        }
        return Math.max(len, 0);
    }

    /** The control retransmit timer: the RTO with its back-off, but never below the floor. */
    private long controlRtoNs(int backoff) {
        return Math.max(rtt.rtoNs(backoff), Math.min(maxRtoNs, CONTROL_RTO_FLOOR_NS << Math.min(backoff, 16)));
    }
}
