package io.tailwire.engine;

import static io.tailwire.engine.ServerConnection.MASK;
import static io.tailwire.engine.ServerConnection.RING;

import io.tailwire.proto.CloseCode;
import io.tailwire.wire.DataFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * DATA (wire-spec.md 4, 7.1): duplicates, the reorder ring and its memory charge, then delivery to the
 * streams in packet-number order up to the cumulative point. Allocates nothing per packet once a
 * connection's spare slots exist.
 */
@EngineThread
final class ServerDataPath {
    /** Delivered slot buffers kept for reuse per connection; more are left to the collector. */
    static final int SPARE_SLOTS = 8;
    /**
     * Payload a connection may send into its full receive buffer between two of our ACKs, in connection
     * buffers, before it is closed with EXCEEDED_ALLOWANCE: an honest sender's bytes in flight stay within a
     * window (at most one buffer), and twice that covers late originals of packets it declared lost.
     */
    static final int OVERFLOW_ALLOWANCE_BUFFERS = 2;

    private final ServerEndpointConfig cfg;
    private final ServerConnections table;
    private final ServerWindows windows;
    private final ServerControl control;
    private final ServerCounters counters;
    private final ServerEvents events;
    private final DataFlyweight data = new DataFlyweight();
    private final DataFlyweight stored = new DataFlyweight();
    /** Appends since the store's last flush. */
    boolean storeUnflushed;

    ServerDataPath(ServerEndpointConfig cfg, ServerConnections table, ServerWindows windows, ServerControl control,
                   ServerCounters counters, ServerEvents events) {
        this.cfg = cfg;
        this.table = table;
        this.windows = windows;
        this.control = control;
        this.counters = counters;
        this.events = events;
    }

    void onData(ServerConnection c, DirectBuffer buf, int index, int length, long nowNs) {
        data.wrap(buf, index, length);
        counters.dataPackets++;
        long pn = data.packetNumber();
        int payload = data.payloadLength();
        long cumBefore = c.tracker.cumulative();
        if (pn < cumBefore || c.tracker.contains(pn)) {
            counters.duplicates++;
            c.ackNow = true; // our ACK was probably lost
            return;
        }
        // Echo only new packets: a needless retransmission arriving after its first copy must not hide that
        // the first copy got here (the sender undoes its window reduction on that evidence, wire-spec 7.3).
        c.echoTimestamp = data.timestamp();
        c.echoArrivalNs = nowNs;
        // A packet delivered at once borrows a reusable max-size slot; one that must wait in the reorder buffer
        // is held in a buffer of its own size, so it costs what it carries: 1023 one-byte packets behind a
        // withheld packet 0 pinned 67 MB in max-size slots (issue 13 item 1).
        boolean immediate = pn == cumBefore && c.deliveredPn == cumBefore && !c.stalled();
        int capacity = immediate || length == c.maxDatagram ? c.maxDatagram : length;
        long charge = capacity + ServerEndpoint.SLOT_OVERHEAD_BYTES;
        boolean overBuffer = c.bufferedBytes + payload > cfg.connectionBudgetBytes()
            || windows.heldTotal + charge > windows.memoryBudgetBytes;
        // The packet at the cumulative point is taken even over budget: a buffer full of later packets waits
        // for exactly it, and refusing it would deadlock (wire-spec 7.1). It costs at most one extra packet.
        if (pn >= cumBefore + RING || pn >= c.deliveredPn + RING || (!immediate && overBuffer)) {
            counters.dropped++;
            c.ackNow = true; // beyond the SACK range or our buffer: tell the sender where we are
            if (overBuffer && pn < cumBefore + RING) {
                c.overflowSinceAck += payload;
                if (c.overflowSinceAck > OVERFLOW_ALLOWANCE_BUFFERS * cfg.connectionBudgetBytes()) {
                    // An honest sender keeps within the windows we advertised, so it cannot get near this.
                    counters.exceededAllowance++;
                    table.close(c, CloseCode.EXCEEDED_ALLOWANCE, "sent " + c.overflowSinceAck
                        + " bytes into a full receive buffer between two ACKs", true);
                }
            }
            return;
        }
        ServerStream s = c.streams.get(data.streamId());
        if (s == null || s.stored == null) {
            table.protocolViolation(c, "DATA for stream " + data.streamId() + " that is not open");
            return;
        }
        int i = (int) (pn & MASK);
        UnsafeBuffer slot = capacity == c.maxDatagram ? c.spareSlots.pollFirst() : null;
        if (slot == null) {
            slot = new UnsafeBuffer(new byte[capacity]);
        }
        c.slots[i] = slot;
        c.heldBytes += charge;
        windows.heldTotal += charge;
        slot.putBytes(0, buf, index, length);
        c.slotLength[i] = length;
        c.bufferedBytes += payload;
        c.bytesReceived += payload;
        counters.bytesReceived += payload;
        if (c.lastDataNs == Long.MIN_VALUE || nowNs - c.lastDataNs >= ServerWindows.ACTIVE_NS) {
            windows.rescanActive = true; // a connection became active: its share counts at once
        }
        c.lastDataNs = nowNs;
        windows.limiter.consume(c.agentId, payload, nowNs);
        c.tracker.mark(pn);
        if (pn != cumBefore) {
            c.ackNow = true; // a gap: tell the sender at once
        }
        if (++c.unackedData >= 2) {
            c.ackNow = true;
        } else if (c.ackDeadlineNs == Long.MAX_VALUE) {
            c.ackDeadlineNs = nowNs + cfg.maxAckDelayNs();
        }
        deliver(c, nowNs);
    }

    /** Hands stored packets to their streams in packet-number order, up to the cumulative point. */
    void deliver(ServerConnection c, long nowNs) {
        while (c.deliveredPn < c.tracker.cumulative()) {
            int i = (int) (c.deliveredPn & MASK);
            stored.wrap(c.slots[i], 0, c.slotLength[i]);
            int payload = stored.payloadLength();
            ServerStream s = c.streams.get(stored.streamId());
            if (s != null && s.stored != null) {
                long offset = stored.streamOffset();
                long held = s.stored.held();
                if (offset > held) {
                    table.protocolViolation(c, "gap in stream " + s.id + ": offset " + offset + " beyond " + held);
                    return;
                }
                long end = s.stored.finalLength() >= 0 ? s.stored.finalLength() : s.closeFinal;
                if (end >= 0 && offset + payload > end) {
                    // Never appended and never a storage stall: the agent broke the stream's end (issue 11 item 5).
                    table.protocolViolation(c, "DATA for stream " + s.id + " at " + offset + ".." + (offset + payload)
                        + " past its final length " + end);
                    return;
                }
                if (offset + payload > held) {
                    if (!s.stored.append(offset, c.slots[i], Wire.DATA_HEADER_LENGTH, payload)) {
                        counters.appendStalls++;
                        if (!c.stalled()) {
                            c.ackNow = true; // announce the closed window at once
                            events.onStorageStalled(c.agentId, s.path, true);
                        }
                        c.stalledUntilNs = nowNs + cfg.appendRetryNs(); // keep it and retry later
                        return;
                    }
                    c.undurableBytes += Math.max(0, s.stored.held() - held);
                    storeUnflushed = true;
                }
            }
            c.bufferedBytes -= payload;
            c.deliveredPn++;
            long charge = c.slots[i].capacity() + ServerEndpoint.SLOT_OVERHEAD_BYTES;
            c.heldBytes -= charge;
            windows.heldTotal -= charge;
            // A delivered slot goes back to a small spare list: in-order traffic reuses a handful of buffers,
            // and an idle connection holds a few KiB instead of the whole 1024-slot ring.
            if (c.spareSlots.size() < SPARE_SLOTS && c.slots[i].capacity() == c.maxDatagram) {
                c.spareSlots.addFirst(c.slots[i]);
            }
            c.slots[i] = null;
        }
        if (c.stalled()) {
            c.stalledUntilNs = Long.MAX_VALUE;
            events.onStorageStalled(c.agentId, null, false);
        }
        if (c.pendingCloses > 0) {
            control.answerCloses(c);
        }
    }
}
