package io.tailwire.engine;

import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.MutableDirectBuffer;

/**
 * When a connection's ACK is due and what it says (wire-spec.md 5, 7): the cumulative point and SACK words,
 * the echo for RTT, the window, and the durable offsets that moved (or all of them, answering a PING).
 */
@EngineThread
final class ServerAcks {
    private final ServerWindows windows;
    private final ServerCounters counters;
    private final AckFlyweight ack = new AckFlyweight();

    ServerAcks(ServerWindows windows, ServerCounters counters) {
        this.windows = windows;
        this.counters = counters;
    }

    boolean due(ServerConnection c, long nowNs) {
        if (c.ackNow || c.durableDirty) {
            return true;
        }
        if (c.unackedData > 0 && nowNs - c.ackDeadlineNs >= 0) {
            return true;
        }
        return reopens(c, nowNs);
    }

    /** A window that reopens from (near) zero is announced at once (wire-spec.md 7.2). */
    boolean reopens(ServerConnection c, long nowNs) {
        long mps = c.maxPayload();
        return c.lastAdvertisedWindow < mps && windows.window(c, nowNs) >= mps;
    }

    int write(ServerConnection c, MutableDirectBuffer out, long nowNs) {
        int durableCount = 0;
        boolean rescan = c.durableDirty || c.repeatDurable || c.lastAdvertisedWindow < c.maxDatagram;
        // An ACK answering a PING repeats every durable offset: an idle agent whose earlier ACK was lost learns
        // them no other way (wire-spec.md 5).
        boolean repeat = c.repeatDurable;
        c.repeatDurable = false;
        int words = c.tracker.wordCount();
        ack.wrapForEncode(out, 0, out.capacity());
        int entriesBase = Wire.ACK_FIXED_LENGTH + 8 * words;
        if (rescan) {
            long undurable = 0;
            boolean more = false;
            int index = 0;
            int repeatNext = 0;
            for (ServerStream s : c.streams.values()) {
                if (s.stored == null) {
                    continue;
                }
                long durable = s.stored.durable();
                undurable += Math.max(0, s.stored.held() - durable);
                boolean advanced = durable > s.reportedDurable;
                boolean repeated = repeat && durable > 0 && index++ >= c.repeatFrom;
                if (advanced || repeated) {
                    if (durableCount < Wire.MAX_DURABLE_ENTRIES) {
                        int at = entriesBase + Wire.DURABLE_ENTRY_LENGTH * durableCount++;
                        out.putInt(at, s.id, Wire.BYTE_ORDER);
                        out.putLong(at + 4, durable, Wire.BYTE_ORDER);
                        s.reportedDurable = durable;
                    } else if (advanced) {
                        more = true; // news goes in the next ACK
                    } else if (repeatNext == 0) {
                        repeatNext = index - 1; // the next PING's ACK repeats from here
                    }
                }
            }
            if (repeat) {
                c.repeatFrom = repeatNext;
            }
            c.undurableBytes = undurable;
            c.durableDirty = more;
        }
        long window = windows.window(c, nowNs);
        if (window < c.maxPayload()) {
            window = 0; // less than one payload is no window (wire-spec.md 7.1): say so plainly
        }
        ack.encode(c.id, c.tracker.cumulative(), c.echoTimestamp, Math.max(0, nowNs - c.echoArrivalNs), window,
            words, durableCount);
        for (int w = 0; w < words; w++) {
            ack.sackWord(w, c.tracker.word(w));
        }
        c.ackNow = false;
        c.overflowSinceAck = 0;
        c.unackedData = 0;
        c.ackDeadlineNs = Long.MAX_VALUE;
        c.lastAdvertisedWindow = window;
        if (window < c.maxPayload()) {
            windows.armLimiterTimer(c, nowNs);
        } else {
            c.limiterTimerNs = Long.MAX_VALUE;
        }
        counters.acksSent++;
        return ack.seal();
    }
}
