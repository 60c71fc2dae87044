package io.tailwire.engine;

import java.util.ArrayDeque;
import java.util.SplittableRandom;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;

import io.tailwire.proto.Close;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.Hello;
import io.tailwire.proto.LossReport;
import io.tailwire.proto.Retry;
import io.tailwire.proto.StreamClose;
import io.tailwire.proto.StreamClosed;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;
import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.Welcome;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.Checksum;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.DataFlyweight;
import io.tailwire.wire.HeaderFlyweight;
import io.tailwire.wire.PingFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Client side of one connection attempt (wire-spec.md sections 3-8), sans-IO: datagrams in through
 * {@link #onDatagram}, out through {@link #poll}, time passed in. Selective repeat over a ring of 1024
 * segment slots (the SACK range); each slot keeps its encoded DATA datagram so a retransmission only
 * refreshes the timestamp and checksum. Slot buffers are allocated on first use and then reused.
 * Not thread-safe: one thread drives it.
 */
public final class AgentConnection {
    public enum State { CONNECTING, CONNECTED, CLOSED }

    /** A snapshot of counters, for metrics and tests. */
    public record Stats(long packetsSent, long dataPacketsSent, long retransmissions, long fastRetransmits,
                        long timeouts, long acksReceived, long datagramsDropped, long srttNs, long rtoNs,
                        long cwnd, long peerWindow, long bytesInFlight, long maxBytesInFlight,
                        long bytesAcked, long spuriousRecoveries, long lossesTolerated, long minRttNs, long probes) {
    }

    private static final int RING = Wire.SACK_RANGE;
    private static final int MASK = RING - 1;
    private static final int PACKET_THRESHOLD = 3;
    /** RFC 9002's kGranularity: the time threshold is never below 1 ms. */
    private static final long TIME_THRESHOLD_GRANULARITY_NS = 1_000_000L;
    private static final int PERSISTENT_CONGESTION_TIMEOUTS = 3;
    /**
     * STREAM_OPEN and STREAM_CLOSE are repeated no sooner than this (wire-spec.md 8): the server answers them
     * only once its metadata or bytes are durable, which takes 70-340 ms on a busy disk, while the data RTO is
     * ~20 ms on a LAN; repeating on the data RTO sent 2-3 needless copies per new file.
     */
    static final long CONTROL_RTO_FLOOR_NS = 400_000_000L;

    private static final byte FREE = 0;
    private static final byte QUEUED = 1;
    private static final byte IN_FLIGHT = 2;
    private static final byte LOST = 3;

    private static final class Slot {
        UnsafeBuffer buffer;
        int length;
        int payloadLength;
        int streamId;
        byte state;
        int timeouts;
        long sentTimeNs;
        long deadlineNs;
        long txSeq;
        /** The loss episode that declared it lost (0: none); see {@link #onAckedAfterLoss}. */
        int lostEpisode;
        boolean retransmitted;
    }

    /** Where a stream is between {@link #openStream} and STREAM_CLOSED; a refused stream is forgotten at once. */
    public enum StreamPhase { OPENING, OPEN, CLOSING }

    /** The connection's timers; {@link #nextDeadline} is the earliest armed one (plus "data can go now"). */
    enum Timer {
        /** CONNECTING: give up the handshake (wire-spec.md 4). */
        CONNECT,
        /** CONNECTING: send (or repeat) HELLO. */
        HELLO,
        /** CONNECTED: nothing heard from the server for the idle timeout. */
        IDLE,
        /** CONNECTED: nothing sent for the keepalive interval: PING. */
        KEEPALIVE,
        /** Time threshold of loss detection for a packet sent before an acknowledged one (RFC 9002 6.1.2). */
        LOSS,
        /** The earliest retransmission timeout of a packet in flight. */
        RTO,
        /** Tail-loss probe: packets in flight and no progress for a PTO. */
        PROBE,
        /** Persist timer: data waits for a closed receiver window with nothing in flight (wire-spec.md 7.2). */
        PERSIST,
        /** The earliest due STREAM_OPEN / STREAM_CLOSE / LOSS_REPORT (re)send. */
        CONTROL
    }

    private static final class AgentStream {
        final int id;
        final StreamOpen open;
        StreamPhase phase = StreamPhase.OPENING;
        /** When the current message (STREAM_OPEN, then STREAM_CLOSE) is repeated; unused before its first copy. */
        long deadlineNs;
        /** Copies of the current message sent so far (its back-off): none yet means it is due at once. */
        int backoff;
        long finalLength;
        int unacked;
        /** Reused for every durable offset the server reports for this stream (no allocation per ACK). */
        final AgentEvent.Durable durable;

        AgentStream(int id, StreamOpen open) {
            this.id = id;
            this.open = open;
            this.durable = new AgentEvent.Durable(id);
        }

        boolean due(long nowNs) {
            return backoff == 0 || nowNs - deadlineNs >= 0;
        }
    }

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

    private final AgentConnectionConfig cfg;
    private final AgentEventQueue events = new AgentEventQueue();
    private final SplittableRandom random;
    private final RttEstimator rtt;
    private final long clientNonce;
    private State state = State.CONNECTING;
    private long connectionId;
    private long serverInstance;
    private ByteString token = ByteString.EMPTY;
    private int maxDatagram;
    private NewReno cc;
    private long peerWindow;
    private long highestCumulative = -1;

    private final TimerTable<Timer> timers = new TimerTable<>(Timer.class);
    private int helloBackoff;
    private int helloSendsSinceReply;
    private long helloSentNs;

    private long lastSentNs;
    private long idleTimeoutNs;
    private long keepaliveNs;

    // Send ring: packets [base, nextPn) are queued or unacknowledged; [base, sendNext) were sent.
    private final Slot[] slots = new Slot[RING];
    private long base;
    private long nextPn;
    private long sendNext;
    private long bytesInFlight;
    private long maxBytesInFlight;
    private long queuedBytes;
    private long txSeq;
    private int lostCount;
    /** Highest transmission sequence acknowledged so far: packets sent before it may be declared lost. */
    private long largestAckedTxSeq;
    private int persistBackoff;

    private final Int2ObjectHashMap<AgentStream> streams = new Int2ObjectHashMap<>();
    private int nextStreamId = 1;
    private final ArrayDeque<PendingLoss> losses = new ArrayDeque<>();
    private int closeCopies;
    private Close closeMessage;

    private final HeaderFlyweight header = new HeaderFlyweight();
    private final AckFlyweight ack = new AckFlyweight();
    private final DataFlyweight data = new DataFlyweight();
    private final PingFlyweight ping = new PingFlyweight();

    private long packetsSent;
    private long dataPacketsSent;
    private long retransmissions;
    private long fastRetransmits;
    private long timeouts;
    /** Tail-loss probes sent since the last ACK that acknowledged something; see {@link #sendProbe}. */
    private int probeBackoff;
    private long lastProgressNs;
    private long lastDataSentNs;
    private long probes;
    private long acksReceived;
    private long dropped;
    private long bytesAcked;
    // Loss episode (numbered from 1): losses declared since the last judgement, which can span several
    // recovery periods. How many packets it declared lost and how many of those have since proved
    // delivered by their first copy; any packet proved really lost confirms the episode.
    private int lossEpisode;
    private boolean episodeOpen;
    private int episodeLost;
    private int episodeSpurious;
    private int episodeAcked;
    private boolean episodeTimedOut;
    private long spuriousRecoveries;

    public AgentConnection(AgentConnectionConfig cfg, long nowNs, long seed) {
        this.cfg = cfg;
        this.random = new SplittableRandom(seed);
        this.rtt = new RttEstimator(cfg.initialRttNs(), cfg.minRtoNs(), cfg.maxRtoNs(), cfg.maxAckDelayNs());
        long nonce = random.nextLong();
        this.clientNonce = nonce == 0 ? 1 : nonce;
        this.maxDatagram = cfg.maxDatagramSize();
        timers.set(Timer.CONNECT, nowNs + cfg.connectTimeoutNs());
        timers.setDue(Timer.HELLO);
        this.lastSentNs = nowNs;
        this.idleTimeoutNs = cfg.idleTimeoutNs();
        this.keepaliveNs = cfg.keepaliveNs();
    }

    // ---------------------------------------------------------------- accessors

    public State state() {
        return state;
    }

    public long connectionId() {
        return connectionId;
    }

    public int maxPayload() {
        return maxDatagram - Wire.DATA_HEADER_LENGTH;
    }

    public long bytesInFlight() {
        return bytesInFlight;
    }

    /** The receiver window the sender currently obeys (from WELCOME, then the newest ACK). */
    public long peerWindow() {
        return peerWindow;
    }

    /** The phase of a stream this connection holds; null for one it does not (refused, closed, unknown). */
    public StreamPhase streamPhase(int streamId) {
        AgentStream s = streams.get(streamId);
        return s == null ? null : s.phase;
    }

    public long congestionWindow() {
        return cc == null ? 0 : cc.window();
    }

    /** Nothing queued or unacknowledged. */
    public boolean allAcked() {
        return base == nextPn;
    }

    /** Payload bytes that {@link #send} accepts now (0 unless connected). */
    public long sendSpace() {
        if (state != State.CONNECTED || nextPn - base >= RING) {
            return 0;
        }
        long bytes = cfg.sendBufferBytes() - queuedBytes;
        long slotsFree = RING - (nextPn - base);
        return Math.max(0, Math.min(bytes, slotsFree * maxPayload()));
    }

    public Stats stats() {
        return new Stats(packetsSent, dataPacketsSent, retransmissions, fastRetransmits, timeouts, acksReceived,
            dropped, rtt.srttNs(), rtt.rtoNs(), cc == null ? 0 : cc.window(), peerWindow, bytesInFlight,
            maxBytesInFlight, bytesAcked, spuriousRecoveries, cc == null ? 0 : cc.lossesTolerated(), rtt.minRttNs(),
            probes);
    }

    /**
     * The oldest event not yet taken, or null when there is none. Call it until null after every
     * {@link #onDatagram} and {@link #poll}: events are only queued, never delivered by a call-back, so
     * acting on one (opening a stream, reporting a loss) never happens inside another engine call.
     */
    public AgentEvent pollEvent() {
        return events.poll();
    }

    // ---------------------------------------------------------------- application calls

    /**
     * Starts opening a stream; the answer arrives as {@link AgentEvent.StreamReplied}. Returns the stream
     * id, or -1 when not connected or the request does not fit in one datagram (path too long).
     */
    public int openStream(String path, long generation, FileIdentity identity, long previousGenerationLength) {
        if (state != State.CONNECTED) {
            return -1;
        }
        int id = nextStreamId;
        StreamOpen.Builder b = StreamOpen.newBuilder().setStreamId(id).setPath(path).setGeneration(generation)
            .setPreviousGenerationLength(previousGenerationLength);
        if (identity != null) {
            b.setIdentity(identity);
        }
        StreamOpen open = b.build();
        if (Wire.HEADER_LENGTH + open.getSerializedSize() > maxDatagram) {
            return -1;
        }
        nextStreamId++;
        streams.put(id, new AgentStream(id, open));
        timers.setDue(Timer.CONTROL);
        return id;
    }

    /**
     * Queues one segment of stream bytes (copied). The stream must have been answered OK; segments of a
     * stream must be queued in offset order without gaps, starting at the resume offset. Returns false
     * when there is no space now ({@link #sendSpace()}).
     */
    public boolean send(int streamId, long offset, DirectBuffer src, int index, int length) {
        if (length < 1 || length > maxPayload()) {
            throw new IllegalArgumentException("segment length " + length + " not in 1.." + maxPayload());
        }
        AgentStream s = streams.get(streamId);
        if (s == null || s.phase != StreamPhase.OPEN) {
            throw new IllegalStateException("stream " + streamId + " is not open");
        }
        if (state != State.CONNECTED || nextPn - base >= RING || queuedBytes + length > cfg.sendBufferBytes()) {
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
        slot.length = data.encode(connectionId, nextPn, 0, streamId, offset, src, index, length);
        slot.payloadLength = length;
        slot.streamId = streamId;
        slot.state = QUEUED;
        slot.timeouts = 0;
        slot.txSeq = 0;
        slot.lostEpisode = 0;
        slot.retransmitted = false;
        slot.deadlineNs = Long.MAX_VALUE;
        s.unacked++;
        queuedBytes += length;
        nextPn++;
        return true;
    }

    /** Ends a generation: STREAM_CLOSE is sent once its data is acknowledged, repeated until answered. */
    public void closeStream(int streamId, long finalLength) {
        AgentStream s = streams.get(streamId);
        if (s == null) {
            return;
        }
        s.phase = StreamPhase.CLOSING;
        s.finalLength = finalLength;
        s.backoff = 0; // STREAM_CLOSE is a new message: its first copy is due at once
        timers.setDue(Timer.CONTROL);
    }

    /** Sends LOSS_REPORT for bytes [from, to) of a stream, three times (best effort). */
    public void reportLoss(int streamId, long from, long to, String reason) {
        if (state != State.CONNECTED) {
            return;
        }
        losses.add(new PendingLoss(LossReport.newBuilder().setStreamId(streamId).setFromOffset(from)
            .setToOffset(to).setReason(reason == null ? "" : reason).build()));
        timers.setDue(Timer.CONTROL);
    }

    /** Graceful close: CLOSE(NORMAL) is sent (three copies) on the next polls; the state becomes CLOSED. */
    public void close(long nowNs) {
        if (state == State.CLOSED) {
            return;
        }
        if (state == State.CONNECTED) {
            closeMessage = Close.newBuilder().setCode(CloseCode.NORMAL).setReason("agent closing").build();
            closeCopies = 3;
        }
        state = State.CLOSED;
    }

    // ---------------------------------------------------------------- input

    public void onDatagram(DirectBuffer buf, int index, int length, long nowNs) {
        if (state == State.CLOSED) {
            return;
        }
        header.wrap(buf, index, length);
        int rc = header.validate(Math.max(maxDatagram, Wire.MIN_HELLO_LENGTH));
        if (rc != Wire.OK) {
            dropped++;
            return;
        }
        int type = header.type();
        long connId = header.connectionId();
        if (state == State.CONNECTING) {
            onHandshakeDatagram(type, connId, buf, index, length, nowNs);
            return;
        }
        if (connId != connectionId) {
            dropped++;
            return;
        }
        switch (type) {
            case Wire.TYPE_ACK:
                received(nowNs);
                onAck(buf, index, length, nowNs);
                break;
            case Wire.TYPE_RESET:
                closed(CloseCode.CLOSE_CODE_UNSPECIFIED, "reset by server", 0);
                break;
            case Wire.TYPE_STREAM_REPLY:
            case Wire.TYPE_STREAM_CLOSED:
            case Wire.TYPE_CLOSE:
            case Wire.TYPE_WELCOME: {
                MessageLite body = ControlCodec.decodeBody(type, buf, index, length);
                if (body == null) {
                    dropped++;
                    return;
                }
                received(nowNs);
                onControl(body);
                break;
            }
            default:
                dropped++;
        }
    }

    private void onHandshakeDatagram(int type, long connId, DirectBuffer buf, int index, int length, long nowNs) {
        if (type != Wire.TYPE_RETRY && type != Wire.TYPE_WELCOME && type != Wire.TYPE_CLOSE) {
            dropped++;
            return;
        }
        if (type == Wire.TYPE_CLOSE && connId != 0) {
            dropped++; // meant for an earlier connection from this address (e.g. REPLACED)
            return;
        }
        MessageLite body = ControlCodec.decodeBody(type, buf, index, length);
        if (body == null) {
            dropped++;
            return;
        }
        if (body instanceof Retry r) {
            if (r.getClientNonce() != clientNonce) {
                dropped++;
                return;
            }
            handshakeRttSample(nowNs);
            token = r.getToken();
            timers.setDue(Timer.HELLO); // answer the RETRY at once
        } else if (body instanceof Welcome w) {
            if (w.getClientNonce() != clientNonce || w.getConnectionId() == 0) {
                dropped++;
                return;
            }
            handshakeRttSample(nowNs);
            connectionId = w.getConnectionId();
            serverInstance = w.getServerInstance();
            int agreed = w.getMaxDatagramSize() == 0 ? cfg.maxDatagramSize()
                : Math.min(cfg.maxDatagramSize(), w.getMaxDatagramSize());
            maxDatagram = Math.max(Wire.MIN_MAX_DATAGRAM, agreed);
            peerWindow = w.getInitialWindow();
            if (w.getIdleTimeoutMs() > 0) {
                idleTimeoutNs = Math.min(idleTimeoutNs, w.getIdleTimeoutMs() * 1_000_000L);
            }
            if (w.getKeepaliveMs() > 0) {
                keepaliveNs = Math.min(keepaliveNs, w.getKeepaliveMs() * 1_000_000L);
            }
            cc = new NewReno(maxPayload());
            state = State.CONNECTED;
            timers.stop(Timer.CONNECT);
            timers.stop(Timer.HELLO);
            received(nowNs);
            timers.set(Timer.KEEPALIVE, lastSentNs + keepaliveNs);
            events.add(new AgentEvent.Connected(connectionId, serverInstance));
        } else if (body instanceof Close c) {
            closed(c.getCode(), c.getReason(), c.getRetryAfterMs());
        }
    }

    /** A datagram from the server arrived (CONNECTED): the idle timeout starts again. */
    private void received(long nowNs) {
        timers.set(Timer.IDLE, nowNs + idleTimeoutNs);
    }

    private void handshakeRttSample(long nowNs) {
        // Karn: only a HELLO sent once since the last reply gives an unambiguous sample.
        if (helloSendsSinceReply == 1) {
            rtt.onSample(nowNs - helloSentNs, 0, nowNs);
        }
        helloSendsSinceReply = 0;
        helloBackoff = 0;
    }

    private void onControl(MessageLite body) {
        if (body instanceof StreamReply r) {
            AgentStream s = streams.get(r.getStreamId());
            if (s == null || s.phase != StreamPhase.OPENING) {
                return; // duplicate reply
            }
            if (r.getStatus() == StreamStatus.OK) {
                s.phase = StreamPhase.OPEN;
            } else {
                streams.remove(s.id);
            }
            timers.setDue(Timer.CONTROL);
            events.add(new AgentEvent.StreamReplied(s.id, r.getStatus(), r.getResumeOffset(), r.getGeneration(),
                r.getMessage()));
        } else if (body instanceof StreamClosed c) {
            AgentStream s = streams.get(c.getStreamId());
            if (s == null || s.phase != StreamPhase.CLOSING) {
                return;
            }
            streams.remove(s.id);
            timers.setDue(Timer.CONTROL);
            events.add(new AgentEvent.StreamClosed(s.id, c.getDurableLength()));
        } else if (body instanceof Close c) {
            closed(c.getCode(), c.getReason(), c.getRetryAfterMs());
        }
    }

    private void closed(CloseCode code, String reason, long retryAfterMs) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        closeCopies = 0;
        events.add(new AgentEvent.Closed(code, reason, retryAfterMs));
    }

    private void onAck(DirectBuffer buf, int index, int length, long nowNs) {
        ack.wrap(buf, index, length);
        if (ack.validate(Wire.MAX_MAX_DATAGRAM) != Wire.OK) {
            dropped++;
            return;
        }
        long cum = ack.cumulative();
        if (cum > sendNext) {
            dropped++; // acknowledges packets never sent: ignore it entirely
            return;
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
                acked(s, echo, nowNs);
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
                    acked(s, echo, nowNs);
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
            if (episodeOpen && episodeAcked == episodeLost) {
                // Every packet the episode declared lost is acknowledged: undo only if all were spurious.
                if (episodeSpurious == episodeLost && !episodeTimedOut) {
                    cc.undo();
                    spuriousRecoveries++;
                } else {
                    cc.confirm();
                }
                episodeOpen = false;
            }
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
        assert counters() && ringMatchesCounters();
        for (int i = 0, n = ack.durableCount(); i < n; i++) {
            // A stream this connection does not hold (closed, refused, never opened) has nobody to tell.
            AgentStream st = streams.get(ack.durableStreamId(i));
            if (st != null) {
                events.durable(st.durable, ack.durableOffset(i));
            }
        }
    }

    private void acked(Slot s, long echo, long nowNs) {
        onAckedAfterLoss(s, echo);
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
        AgentStream st = streams.get(s.streamId);
        assert st == null || st.unacked > 0 : "stream " + s.streamId + " acknowledged more packets than it queued";
        if (st != null && --st.unacked == 0 && st.phase == StreamPhase.CLOSING) {
            timers.setDue(Timer.CONTROL);
        }
    }

    /**
     * Eifel-style detection (RFC 3522) of a loss declared by mistake: the packet is acknowledged before its
     * retransmission went out, or by an ACK whose echoed timestamp is older than that retransmission (so
     * the first copy got there). Reordering beyond the packet threshold otherwise halves cwnd for nothing;
     * when every loss of an episode proves spurious, the episode is undone (wire-spec.md 7.3). Not after a
     * retransmission timeout: a timeout that proves spurious usually means a queue longer than the RTO,
     * and restoring the window would keep that queue full (found by CongestionSharingTest).
     */
    private void onAckedAfterLoss(Slot s, long echo) {
        if (!episodeOpen || s.lostEpisode != lossEpisode) {
            return;
        }
        s.lostEpisode = 0;
        episodeAcked++;
        if (s.state == LOST || (s.retransmitted && echo - s.sentTimeNs < 0)) {
            episodeSpurious++;
        } else if (echo == s.sentTimeNs) {
            episodeOpen = false; // its retransmission is what arrived: the loss was real, the reduction stands
            cc.confirm();
        }
        // Otherwise the ACK echoes a later packet and cannot tell which copy arrived: not spurious.
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
        if (!episodeOpen) {
            episodeOpen = true;
            lossEpisode++;
            episodeLost = 0;
            episodeSpurious = 0;
            episodeAcked = 0;
            episodeTimedOut = false;
        }
        episodeTimedOut |= byTimeout;
        if (s.lostEpisode != lossEpisode) {
            s.lostEpisode = lossEpisode;
            episodeLost++;
        }
    }

    // ---------------------------------------------------------------- output and timers

    /** Writes the next datagram into {@code out} at index 0; returns its length or 0. Handles timers. */
    public int poll(MutableDirectBuffer out, long nowNs) {
        if (state == State.CLOSED) {
            if (closeCopies > 0) {
                closeCopies--;
                return sent(ControlCodec.encode(out, 0, maxDatagram, connectionId, closeMessage), nowNs);
            }
            return 0;
        }
        if (state == State.CONNECTING) {
            if (timers.isExpired(Timer.CONNECT, nowNs)) {
                closed(CloseCode.CLOSE_CODE_UNSPECIFIED, "connect timeout", 0);
                return 0;
            }
            if (timers.isExpired(Timer.HELLO, nowNs)) {
                Hello hello = Hello.newBuilder().setAgentId(cfg.agentId()).setClientNonce(clientNonce)
                    .setToken(token).setMaxDatagramSize(cfg.maxDatagramSize()).setInstanceId(cfg.instanceId()).build();
                int len = ControlCodec.encode(out, 0, out.capacity(), Wire.TYPE_HELLO, 0, hello);
                helloSentNs = nowNs;
                helloSendsSinceReply++;
                timers.set(Timer.HELLO, nowNs + rtt.rtoNs(helloBackoff++));
                return sent(len, nowNs);
            }
            return 0;
        }
        int len = pollConnected(out, nowNs);
        if (state == State.CONNECTED) {
            armProbe(); // what poll sent or declared lost moves the probe deadline
        }
        assert counters();
        return len;
    }

    private int pollConnected(MutableDirectBuffer out, long nowNs) {
        if (timers.isExpired(Timer.IDLE, nowNs)) {
            closed(CloseCode.IDLE_TIMEOUT, "no datagram from server for " + idleTimeoutNs / 1_000_000 + " ms", 0);
            return 0;
        }
        if (timers.isExpired(Timer.LOSS, nowNs)) {
            detectLosses(nowNs);
            armRto();
        }
        checkRetransmitTimers(nowNs);
        armProbe();
        if (timers.isExpired(Timer.PROBE, nowNs)) {
            return sent(sendProbe(out, nowNs), nowNs);
        }
        if (timers.isExpired(Timer.CONTROL, nowNs)) {
            int len = pollControl(out, nowNs);
            if (len > 0) {
                return sent(len, nowNs);
            }
        }
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
                        return sent(len, nowNs);
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
                return sent(len, nowNs);
            }
        }
        // Blocked by a too-small receiver window with nothing in flight: probe (wire-spec.md 7.2).
        boolean waiting = lostCount > 0 || sendNext < nextPn;
        if (waiting && bytesInFlight == 0) {
            if (!timers.isSet(Timer.PERSIST)) {
                timers.set(Timer.PERSIST, nowNs + rtt.rtoNs(persistBackoff));
            } else if (timers.isExpired(Timer.PERSIST, nowNs)) {
                persistBackoff++;
                timers.set(Timer.PERSIST, nowNs + rtt.rtoNs(persistBackoff));
                return sent(encodePing(out, nowNs), nowNs);
            }
        } else {
            timers.stop(Timer.PERSIST);
        }
        if (timers.isExpired(Timer.KEEPALIVE, nowNs)) {
            return sent(encodePing(out, nowNs), nowNs);
        }
        return 0;
    }

    private int encodePing(MutableDirectBuffer out, long nowNs) {
        ping.wrapForEncode(out, 0, out.capacity());
        return ping.encode(connectionId, nowNs);
    }

    private int sent(int len, long nowNs) {
        if (len > 0) {
            packetsSent++;
            lastSentNs = nowNs;
            if (state == State.CONNECTED) {
                timers.set(Timer.KEEPALIVE, nowNs + keepaliveNs);
            }
        }
        return Math.max(len, 0);
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
    private void armProbe() {
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
    private int sendProbe(MutableDirectBuffer out, long nowNs) {
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

    /** Sends the first due control message (STREAM_OPEN, STREAM_CLOSE, LOSS_REPORT); 0 if none. */
    private int pollControl(MutableDirectBuffer out, long nowNs) {
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
        for (AgentStream s : streams.values()) {
            boolean wants = s.phase == StreamPhase.OPENING
                || (s.phase == StreamPhase.CLOSING && s.unacked == 0);
            if (!wants) {
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
        return Math.max(rtt.rtoNs(backoff), Math.min(cfg.maxRtoNs(), CONTROL_RTO_FLOOR_NS << Math.min(backoff, 16)));
    }

    /** The receiver's window as the sender obeys it: less than one max-size payload is none (wire-spec.md 7.1). */
    private long usableWindow() {
        return peerWindow < maxPayload() ? 0 : peerWindow;
    }

    /** When {@link #poll} should next be called (absolute ns); a value at or before now means now. */
    public long nextDeadline() {
        if (state == State.CLOSED) {
            return closeCopies > 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        long d = timers.next();
        if (state == State.CONNECTING || d == Long.MIN_VALUE) {
            return d;
        }
        if (lostCount > 0 || sendNext < nextPn) {
            if (nextPacketFits()) {
                return Long.MIN_VALUE; // data can go now
            }
            if (bytesInFlight == 0 && !timers.isSet(Timer.PERSIST)) {
                return Long.MIN_VALUE; // poll arms the persist timer
            }
        }
        return d;
    }

    /**
     * Data waits to be sent (new or lost) while packets are in flight and the congestion or receiver window
     * holds it back: what changes that is an ACK (or a loss timer), not the clock.
     */
    public boolean sendBlocked() {
        return state == State.CONNECTED && bytesInFlight > 0 && (lostCount > 0 || sendNext < nextPn)
            && !nextPacketFits();
    }

    /** The packet that goes next (the oldest lost one, else the next new one) fits both windows. */
    private boolean nextPacketFits() {
        Slot s = slots[(int) ((lostCount > 0 ? firstLost() : sendNext) & MASK)];
        return bytesInFlight + s.payloadLength <= usableWindow() && bytesInFlight < cc.window();
    }

    /**
     * The send ring's order and counters are consistent (checked with -ea after every ACK and poll; cheap).
     * Throws AssertionError naming the broken one; returns true so it can be the operand of an assert.
     */
    private boolean counters() {
        if (!(base <= sendNext && sendNext <= nextPn)) {
            throw broken("ring out of order");
        }
        if (!(nextPn - base <= RING)) {
            throw broken("more than " + RING + " packets queued");
        }
        if (!(bytesInFlight >= 0 && bytesInFlight <= queuedBytes)) {
            throw broken("bytes in flight outside 0..queued");
        }
        if (!(queuedBytes <= cfg.sendBufferBytes())) {
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
        if (state == State.CONNECTED && timers.isSet(Timer.PROBE) != (bytesInFlight > 0)) {
            throw broken("probe timer " + (timers.isSet(Timer.PROBE) ? "armed" : "stopped") + " with bytes in flight");
        }
        return true;
    }

    /** The counters agree with the slots (a scan of the ring: checked with -ea after ACKs and timeouts). */
    private boolean ringMatchesCounters() {
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

    private long firstLost() {
        for (long pn = base; pn < sendNext; pn++) {
            if (slots[(int) (pn & MASK)].state == LOST) {
                return pn;
            }
        }
        return sendNext;
    }
}
