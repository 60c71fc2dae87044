package io.tailwire.engine;

import io.tailwire.engine.AgentConnection.StreamPhase;
import io.tailwire.engine.AgentConnection.Timer;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.Checksum;
import io.tailwire.wire.DataFlyweight;
import io.tailwire.wire.PingFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The agent's send window (wire-spec.md 5, 7): selective repeat over a ring of 1024 segment slots (the
 * SACK range), loss detection (RFC 9002 thresholds, retransmission timeout, tail-loss probe), the persist
 * probe, and the congestion controller it feeds. Each slot keeps its encoded DATA datagram so a
 * retransmission only refreshes the timestamp and checksum; slot buffers are allocated on first use and
 * then reused. Arms {@link Timer#LOSS}, {@link Timer#RTO}, {@link Timer#PROBE} and {@link Timer#PERSIST}.
 * Not thread-safe: the connection's thread owns it.
 */
final class SendWindow {
    private static final int RING = Wire.SACK_RANGE;
    private static final int MASK = RING - 1;
    private static final int PACKET_THRESHOLD = 3;
    /** RFC 9002's kGranularity: the time threshold is never below 1 ms. */
    private static final long TIME_THRESHOLD_GRANULARITY_NS = 1_000_000L;
    private static final int PERSISTENT_CONGESTION_TIMEOUTS = 3;

    private static final byte FREE = 0;
    private static final byte QUEUED = 1;
    private static final byte IN_FLIGHT = 2;
    static final byte LOST = 3;

    /** One packet of the ring, from {@link #enqueue} until acknowledged. */
    static final class Slot {
        UnsafeBuffer buffer;
        int length;
        int payloadLength;
        int streamId;
        byte state;
        int timeouts;
        long sentTimeNs;
        long deadlineNs;
        long txSeq;
        /** The loss episode that declared it lost (0: none); see {@link LossEpisode#onAcked}. */
        int lostEpisode;
        boolean retransmitted;
    }

    private final TimerTable<Timer> timers;
    private final RttEstimator rtt;
    private final AgentStreamTable streams;
    private final ControlSender control;
    private final long sendBufferBytes;
    private final LossEpisode episode = new LossEpisode();
    private NewReno cc;
    private long connectionId;
    private int maxDatagram;
    private long peerWindow;
    private long highestCumulative = -1;

    // Send ring: packets [base, nextPn) are queued or unacknowledged; [base, sendNext) were sent.
    private final Slot[] slots = new Slot[RING];
    private long base;
    private long nextPn;
    private long sendNext;
    private long bytesInFlight;
    private long queuedBytes;
    private long txSeq;
    private int lostCount;
    /** Highest transmission sequence acknowledged so far: packets sent before it may be declared lost. */
    private long largestAckedTxSeq;
    private int persistBackoff;
    /** Tail-loss probes sent since the last ACK that acknowledged something; see {@link #sendProbe}. */
    private int probeBackoff;
    private long lastProgressNs;
    private long lastDataSentNs;

    private final DataFlyweight data = new DataFlyweight();
    private final PingFlyweight ping = new PingFlyweight();

    long maxBytesInFlight;
    long dataPacketsSent;
    long retransmissions;
    long fastRetransmits;
    long timeouts;
    long probes;
    long acksReceived;
    long bytesAcked;

    SendWindow(TimerTable<Timer> timers, RttEstimator rtt, AgentStreamTable streams, ControlSender control,
               long sendBufferBytes) {
        this.timers = timers;
        this.rtt = rtt;
        this.streams = streams;
        this.control = control;
        this.sendBufferBytes = sendBufferBytes;
    }

    /** WELCOME: the connection id, the agreed datagram size and the receiver's first window. */
    void connected(long connectionId, int maxDatagram, long initialWindow) {
        this.connectionId = connectionId;
        this.maxDatagram = maxDatagram;
        this.peerWindow = initialWindow;
        this.cc = new NewReno(maxPayload());
    }

    int maxPayload() {
        return maxDatagram - Wire.DATA_HEADER_LENGTH;
    }

    /** Null until connected. */
    NewReno congestion() {
        return cc;
    }

    long peerWindow() {
        return peerWindow;
    }

    long bytesInFlight() {
        return bytesInFlight;
    }

    long spuriousRecoveries() {
        return episode.spuriousRecoveries;
    }

    boolean allAcked() {
        return base == nextPn;
    }

    /** Payload bytes {@link #enqueue} accepts now. */
    long space() {
        if (nextPn - base >= RING) {
            return 0;
        }
        long bytes = sendBufferBytes - queuedBytes;
        long slotsFree = RING - (nextPn - base);
        return Math.max(0, Math.min(bytes, slotsFree * maxPayload()));
    }

    /** Queues one segment (copied) as the next packet; false when the ring or the send buffer is full. */
    boolean enqueue(AgentStreamTable.Stream stream, long offset, DirectBuffer src, int index, int length) {
        if (nextPn - base >= RING || queuedBytes + length > sendBufferBytes) {
            return false;
        }
        Slot slot = slots[(int) (nextPn & MASK)];
        if (slot == null) {
            slot = new Slot();
            slots[(int) (nextPn & MASK)] = slot;
        }
        if (slot.buffer == null || slot.buffer.capacity() < maxDatagram) {
            slot.buffer = new UnsafeBuffer(new byte[maxDatagram]);
        }
        data.wrapForEncode(slot.buffer, 0, slot.buffer.capacity());
        slot.length = data.encode(connectionId, nextPn, 0, stream.id, offset, src, index, length);
        slot.payloadLength = length;
        slot.streamId = stream.id;
        slot.state = QUEUED;
        slot.timeouts = 0;
        slot.txSeq = 0;
        slot.lostEpisode = 0;
        slot.retransmitted = false;
        slot.deadlineNs = Long.MAX_VALUE;
        stream.unacked++;
        queuedBytes += length;
        nextPn++;
        return true;
    }

    // ---------------------------------------------------------------- ACK

    /** Applies a validated ACK; false if it acknowledges packets never sent (then it changes nothing). */
    boolean onAck(AckFlyweight ack, long nowNs) {
        long cum = ack.cumulative();
        if (cum > sendNext) {
            return false;
        }
        acksReceived++;
        long echo = ack.echoTimestamp();
        boolean rttSample = false;
        long largestAckedTx = 0;
        boolean newlyAcked = false;
        // Cumulative part.
        for (long pn = base; pn < cum; pn++) {
            Slot s = slots[(int) (pn & MASK)];
            if (s.state == IN_FLIGHT || s.state == LOST) {
                if (s.sentTimeNs == echo && s.state == IN_FLIGHT) {
                    rttSample = true;
                }
                largestAckedTx = Math.max(largestAckedTx, s.txSeq);
                acked(s, echo);
                newlyAcked = true;
            }
        }
        // Selective part.
        int words = ack.sackWords();
        for (int w = 0; w < words; w++) {
            long bits = ack.sackWord(w);
            while (bits != 0) {
                int i = Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                long pn = cum + 1 + 64L * w + i;
                if (pn < base || pn >= sendNext) {
                    continue;
                }
                Slot s = slots[(int) (pn & MASK)];
                if (s.state == IN_FLIGHT || s.state == LOST) {
                    if (s.sentTimeNs == echo && s.state == IN_FLIGHT) {
                        rttSample = true;
                    }
                    largestAckedTx = Math.max(largestAckedTx, s.txSeq);
                    acked(s, echo);
                    newlyAcked = true;
                }
            }
        }
        if (rttSample) {
            rtt.onSample(nowNs - echo, ack.ackDelay(), nowNs);
            cc.onRtt(rtt.srttNs(), rtt.minRttNs());
        }
        while (base < sendNext && slots[(int) (base & MASK)].state == FREE) {
            base++;
        }
        if (cum >= highestCumulative) {
            highestCumulative = cum;
            peerWindow = ack.window();
        }
        if (newlyAcked) {
            lastProgressNs = nowNs;
            probeBackoff = 0;
            episode.judge(cc);
            largestAckedTxSeq = Math.max(largestAckedTxSeq, largestAckedTx);
            detectLosses(nowNs);
            armRto();
        }
        timers.stop(Timer.PERSIST);
        if (newlyAcked) {
            // Only progress resets the probe back-off: the ACK that answers a probe with a still-closed window
            // must leave it doubling (wire-spec 7.2).
            persistBackoff = 0;
        }
        armProbe();
        assert counters(true) && ringMatchesCounters();
        return true;
    }

    private void acked(Slot s, long echo) {
        episode.onAcked(s, echo, cc);
        cc.onDelivered();
        if (s.state == IN_FLIGHT) {
            // Grow cwnd only while it is (nearly) used (RFC 9002 7.8): a window- or application-limited
            // sender would otherwise inflate it without bound and lose its meaning on the next congestion.
            if (2 * bytesInFlight >= cc.window()) {
                cc.onAcked(s.payloadLength, s.sentTimeNs);
            }
            bytesInFlight -= s.payloadLength;
        } else {
            lostCount--; // acknowledged before its retransmission went out
        }
        queuedBytes -= s.payloadLength;
        bytesAcked += s.payloadLength;
        s.state = FREE;
        AgentStreamTable.Stream st = streams.get(s.streamId);
        assert st == null || st.unacked > 0 : "stream " + s.streamId + " acknowledged more packets than it queued";
        if (st != null && --st.unacked == 0 && st.phase == StreamPhase.CLOSING) {
            control.streamChanged();
        }
    }

    /**
     * RFC 9002 6.1: a packet sent before one that was acknowledged is lost when 3 later-sent packets are
     * acknowledged (packet threshold) or when it was sent more than 9/8 of the RTT before now (time
     * threshold). The time threshold is what finds a loss with fewer than 3 packets after it (a small
     * window, a lost retransmission) without waiting for the retransmission timer; packets not yet past it
     * arm {@link Timer#LOSS}. The caller re-arms {@link Timer#RTO}: packets may have left the flight.
     */
    private void detectLosses(long nowNs) {
        timers.stop(Timer.LOSS);
        if (largestAckedTxSeq == 0) {
            return;
        }
        long lossDelay = Math.max(rtt.srttNs(), rtt.latestNs());
        lossDelay = Math.max(lossDelay + (lossDelay >> 3), TIME_THRESHOLD_GRANULARITY_NS);
        long lossTimeNs = Long.MAX_VALUE;
        for (long pn = base; pn < sendNext; pn++) {
            Slot s = slots[(int) (pn & MASK)];
            if (s.state != IN_FLIGHT || s.txSeq >= largestAckedTxSeq) {
                continue;
            }
            if (s.txSeq + PACKET_THRESHOLD <= largestAckedTxSeq || nowNs - s.sentTimeNs >= lossDelay) {
                markLost(s, false, nowNs);
                fastRetransmits++;
            } else {
                lossTimeNs = Math.min(lossTimeNs, s.sentTimeNs + lossDelay);
            }
        }
        if (lossTimeNs != Long.MAX_VALUE) {
            timers.set(Timer.LOSS, lossTimeNs);
        }
    }

    private void markLost(Slot s, boolean byTimeout, long nowNs) {
        s.state = LOST;
        bytesInFlight -= s.payloadLength;
        lostCount++;
        cc.onLost(s.sentTimeNs, nowNs, Math.max(rtt.srttNs(), rtt.recentMaxNs()), rtt.minRttNs());
        episode.onLost(s, byTimeout);
    }

    // ---------------------------------------------------------------- timers and sending

    /** The loss and retransmission timers: packets past them are declared lost. */
    void onTimers(long nowNs) {
        if (timers.isExpired(Timer.LOSS, nowNs)) {
            detectLosses(nowNs);
            armRto();
        }
        checkRetransmitTimers(nowNs);
        armProbe();
    }

    private void checkRetransmitTimers(long nowNs) {
        if (!timers.isExpired(Timer.RTO, nowNs)) {
            return;
        }
        boolean persistent = false;
        for (long pn = base; pn < sendNext; pn++) {
            Slot s = slots[(int) (pn & MASK)];
            if (s.state == IN_FLIGHT && nowNs - s.deadlineNs >= 0) {
                s.timeouts++;
                timeouts++;
                persistent |= s.timeouts >= PERSISTENT_CONGESTION_TIMEOUTS;
                markLost(s, true, nowNs);
            }
        }
        if (persistent) {
            cc.onPersistentCongestion(nowNs);
        }
        armRto();
        assert ringMatchesCounters();
    }

    /**
     * The next DATA datagram into {@code out} (the oldest lost packet, else the next new one, within both
     * windows), or a persist probe PING when a too-small receiver window holds data back with nothing in
     * flight (wire-spec.md 7.2); its length, or 0.
     */
    int pollData(MutableDirectBuffer out, long nowNs) {
        long limit = usableWindow();
        long cwnd = cc.window();
        if (lostCount > 0) {
            for (long pn = base; pn < sendNext; pn++) {
                Slot s = slots[(int) (pn & MASK)];
                if (s.state == LOST) {
                    // With nothing in flight the oldest lost packet goes whatever the window: it is the one a
                    // receiver full of later packets is waiting for, and receivers always take it (wire-spec 7.1).
                    if ((bytesInFlight + s.payloadLength <= limit || bytesInFlight == 0) && bytesInFlight < cwnd) {
                        lostCount--;
                        retransmissions++;
                        int len = transmit(s, out, nowNs);
                        assert bytesInFlight <= limit || bytesInFlight == s.payloadLength
                            : "retransmission put " + bytesInFlight + " bytes in flight over the window " + limit;
                        return len;
                    }
                    break; // keep order: the oldest lost packet goes first
                }
            }
        }
        // New data only when nothing awaits retransmission, and within the receiver's SACK range.
        if (lostCount == 0 && sendNext < nextPn && (highestCumulative < 0 || sendNext < highestCumulative + RING)) {
            Slot s = slots[(int) (sendNext & MASK)];
            if (bytesInFlight + s.payloadLength <= limit && bytesInFlight < cwnd) {
                sendNext++;
                int len = transmit(s, out, nowNs);
                assert bytesInFlight <= limit : bytesInFlight + " bytes in flight over the window " + limit;
                return len;
            }
        }
        // Blocked by a too-small receiver window with nothing in flight: probe (wire-spec.md 7.2).
        if (waiting() && bytesInFlight == 0) {
            if (!timers.isSet(Timer.PERSIST)) {
                timers.set(Timer.PERSIST, nowNs + rtt.rtoNs(persistBackoff));
            } else if (timers.isExpired(Timer.PERSIST, nowNs)) {
                persistBackoff++;
                timers.set(Timer.PERSIST, nowNs + rtt.rtoNs(persistBackoff));
                return encodePing(out, nowNs);
            }
        } else {
            timers.stop(Timer.PERSIST);
        }
        return 0;
    }

    /** A PING (persist or tail-loss probe, keepalive) into {@code out}; its length. */
    int encodePing(MutableDirectBuffer out, long nowNs) {
        ping.wrapForEncode(out, 0, out.capacity());
        return ping.encode(connectionId, nowNs);
    }

    private int transmit(Slot s, MutableDirectBuffer out, long nowNs) {
        s.retransmitted |= s.state == LOST;
        writeCopy(s, out, nowNs);
        s.state = IN_FLIGHT;
        s.deadlineNs = nowNs + rtt.rtoNs(s.timeouts);
        if (s.deadlineNs < timers.get(Timer.RTO)) {
            timers.set(Timer.RTO, s.deadlineNs);
        }
        bytesInFlight += s.payloadLength;
        maxBytesInFlight = Math.max(maxBytesInFlight, bytesInFlight);
        return s.length;
    }

    /** Writes a copy of {@code s} into {@code out}, stamped and sealed now, as its newest transmission. */
    private void writeCopy(Slot s, MutableDirectBuffer out, long nowNs) {
        out.putBytes(0, s.buffer, 0, s.length);
        out.putLong(Wire.DATA_TIMESTAMP_OFFSET, nowNs, Wire.BYTE_ORDER);
        Checksum.seal(out, 0, s.length);
        s.sentTimeNs = nowNs;
        s.txSeq = ++txSeq;
        lastDataSentNs = nowNs;
        dataPacketsSent++;
    }

    /**
     * Arms {@link Timer#PROBE} a PTO after the last send or ACK progress while packets are in flight. Called
     * wherever its inputs change: the end of an ACK (progress, RTT, flight) and of a poll (sends, losses).
     */
    void armProbe() {
        if (bytesInFlight == 0) {
            timers.stop(Timer.PROBE);
            return;
        }
        long from = lastProgressNs - lastDataSentNs > 0 ? lastProgressNs : lastDataSentNs;
        timers.set(Timer.PROBE, from + rtt.ptoNs(probeBackoff));
    }

    /**
     * Tail-loss probe (RFC 9002 6.2): the oldest packet in flight goes again, whatever cwnd says (a PING
     * instead when the receiver's window has shrunk below what is in flight), and stays
     * in flight (nothing is declared lost, cwnd is untouched). Its ACK, or that of the packets it pushes out
     * of a queue holding them, lets the thresholds judge the rest in about one RTT instead of the 20 ms
     * minimum RTO: a lost or held last packet of a flight otherwise stalls a window-limited sender.
     */
    int sendProbe(MutableDirectBuffer out, long nowNs) {
        probeBackoff++;
        probes++;
        if (bytesInFlight > usableWindow()) {
            // The window shrank below what is in flight: no DATA may leave (wire-spec 7.1), a PING may.
            return encodePing(out, nowNs);
        }
        for (long pn = base; pn < sendNext; pn++) {
            Slot s = slots[(int) (pn & MASK)];
            if (s.state == IN_FLIGHT) {
                s.retransmitted = true; // two copies: an ACK echoing the older one is not an RTT sample
                writeCopy(s, out, nowNs);
                return s.length;
            }
        }
        return 0;
    }

    /** Arms {@link Timer#RTO} at the earliest deadline of a packet in flight, after packets left the flight. */
    private void armRto() {
        long min = Long.MAX_VALUE;
        for (long pn = base; pn < sendNext; pn++) {
            Slot s = slots[(int) (pn & MASK)];
            if (s.state == IN_FLIGHT && s.deadlineNs < min) {
                min = s.deadlineNs;
            }
        }
        if (min == Long.MAX_VALUE) {
            timers.stop(Timer.RTO);
        } else {
            timers.set(Timer.RTO, min);
        }
    }

    /** The receiver's window as the sender obeys it: less than one max-size payload is none (wire-spec.md 7.1). */
    long usableWindow() {
        return peerWindow < maxPayload() ? 0 : peerWindow;
    }

    /** Packets wait to be sent: lost ones or new ones. */
    boolean waiting() {
        return lostCount > 0 || sendNext < nextPn;
    }

    /** The packet that goes next (the oldest lost one, else the next new one) fits both windows. */
    boolean nextPacketFits() {
        Slot s = slots[(int) ((lostCount > 0 ? firstLost() : sendNext) & MASK)];
        return bytesInFlight + s.payloadLength <= usableWindow() && bytesInFlight < cc.window();
    }

    private long firstLost() {
        for (long pn = base; pn < sendNext; pn++) {
            if (slots[(int) (pn & MASK)].state == LOST) {
                return pn;
            }
        }
        return sendNext;
    }

    // ---------------------------------------------------------------- invariants (checked with -ea)

    /**
     * The ring's order and counters are consistent (checked with -ea after every ACK and poll; cheap).
     * Throws AssertionError naming the broken one; returns true so it can be the operand of an assert.
     * {@code connected}: the connection is CONNECTED, so the probe timer must follow the flight.
     */
    boolean counters(boolean connected) {
        if (!(base <= sendNext && sendNext <= nextPn)) {
            throw broken("ring out of order");
        }
        if (!(nextPn - base <= RING)) {
            throw broken("more than " + RING + " packets queued");
        }
        if (!(bytesInFlight >= 0 && bytesInFlight <= queuedBytes)) {
            throw broken("bytes in flight outside 0..queued");
        }
        if (!(queuedBytes <= sendBufferBytes)) {
            throw broken("queued bytes over the send buffer");
        }
        if (!(lostCount >= 0 && lostCount <= sendNext - base)) {
            throw broken("lost count outside the sent packets");
        }
        // The receiver delivered everything below its cumulative point: the sender keeps none of it, and
        // sends nothing 1024 or more above it (wire-spec.md 5).
        if (!(highestCumulative <= base)) {
            throw broken("a packet below the cumulative ACK is still kept");
        }
        if (!(highestCumulative < 0 || sendNext <= highestCumulative + RING)) {
            throw broken("sent beyond the SACK range");
        }
        // The probe timer is re-armed wherever its inputs change, not recomputed on demand: it must be armed
        // exactly while packets are in flight.
        if (connected && timers.isSet(Timer.PROBE) != (bytesInFlight > 0)) {
            throw broken("probe timer " + (timers.isSet(Timer.PROBE) ? "armed" : "stopped") + " with bytes in flight");
        }
        return true;
    }

    /** The counters agree with the slots (a scan of the ring: checked with -ea after ACKs and timeouts). */
    boolean ringMatchesCounters() {
        long inFlight = 0;
        long queued = 0;
        int lost = 0;
        long earliestRto = Long.MAX_VALUE;
        for (long pn = base; pn < nextPn; pn++) {
            Slot s = slots[(int) (pn & MASK)];
            if (!(pn < sendNext ? s.state != QUEUED : s.state == QUEUED)) {
                throw broken("slot " + pn + " in state " + s.state);
            }
            inFlight += s.state == IN_FLIGHT ? s.payloadLength : 0;
            queued += s.state == FREE ? 0 : s.payloadLength;
            lost += s.state == LOST ? 1 : 0;
            if (s.state == IN_FLIGHT) {
                earliestRto = Math.min(earliestRto, s.deadlineNs);
            }
        }
        if (!(base == sendNext || slots[(int) (base & MASK)].state != FREE)) {
            throw broken("base " + base + " is acknowledged");
        }
        if (!(inFlight == bytesInFlight)) {
            throw broken("slots hold " + inFlight + " bytes in flight, counter " + bytesInFlight);
        }
        if (!(queued == queuedBytes)) {
            throw broken("slots hold " + queued + " queued bytes, counter " + queuedBytes);
        }
        if (!(lost == lostCount)) {
            throw broken("slots hold " + lost + " lost packets, counter " + lostCount);
        }
        // The RTO timer is re-armed when packets leave the flight: it must be the earliest packet deadline.
        if (timers.get(Timer.RTO) != earliestRto) {
            throw broken("RTO timer at " + timers.get(Timer.RTO) + ", earliest packet deadline " + earliestRto);
        }
        return true;
    }

    /** The error for a broken invariant; only built when one breaks (the checks must not allocate). */
    private AssertionError broken(String what) {
        return new AssertionError("AgentConnection invariant broken: " + what + " (base " + base + ", sendNext "
            + sendNext + ", nextPn " + nextPn + ", inFlight " + bytesInFlight + ", queued " + queuedBytes
            + ", lost " + lostCount + ", cumulative " + highestCumulative + ")");
    }
}
