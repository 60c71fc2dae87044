package io.tailwire.engine;

import java.util.SplittableRandom;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageLite;

import io.tailwire.proto.Close;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.FileIdentity;
import io.tailwire.proto.Hello;
import io.tailwire.proto.LossReport;
import io.tailwire.proto.Retry;
import io.tailwire.proto.StreamClosed;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamReply;
import io.tailwire.proto.StreamStatus;
import io.tailwire.proto.Welcome;
import io.tailwire.wire.AckFlyweight;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.HeaderFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Client side of one connection attempt (wire-spec.md sections 3-8), sans-IO: datagrams in through
 * {@link #onDatagram}, out through {@link #poll}, time passed in, and what happened queued as
 * {@link AgentEvent}s for the caller to take with {@link #pollEvent} (it never calls out). This class is
 * the handshake, the connection's lifetime and the dispatch; its rooms are the stream table
 * ({@link AgentStreamTable}), the control messages and their repeats ({@link ControlSender}) and the send
 * window with loss recovery ({@link SendWindow}). Not thread-safe: one thread drives it.
 */
public final class AgentConnection {
    public enum State { CONNECTING, CONNECTED, CLOSED }

    /** Where a stream is between {@link #openStream} and STREAM_CLOSED; a refused stream is forgotten at once. */
    public enum StreamPhase { OPENING, OPEN, CLOSING }

    /** A snapshot of counters, for metrics and tests. */
    public record Stats(long packetsSent, long dataPacketsSent, long retransmissions, long fastRetransmits,
                        long timeouts, long acksReceived, long datagramsDropped, long srttNs, long rtoNs,
                        long cwnd, long peerWindow, long bytesInFlight, long maxBytesInFlight,
                        long bytesAcked, long spuriousRecoveries, long lossesTolerated, long minRttNs, long probes) {
    }

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

    /** CLOSE(NORMAL) from a local {@link #close} is best effort: this many copies on the next polls. */
    private static final int CLOSE_COPIES = 3;

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

    private final TimerTable<Timer> timers = new TimerTable<>(Timer.class);
    private int helloBackoff;
    private int helloSendsSinceReply;
    private long helloSentNs;

    private long lastSentNs;
    private long idleTimeoutNs;
    private long keepaliveNs;

    private final AgentStreamTable streams = new AgentStreamTable();
    private final ControlSender control;
    private final SendWindow window;
    private int closeCopies;
    private Close closeMessage;

    private final HeaderFlyweight header = new HeaderFlyweight();
    private final AckFlyweight ack = new AckFlyweight();

    private long packetsSent;
    private long dropped;

    public AgentConnection(AgentConnectionConfig cfg, long nowNs, long seed) {
        this.cfg = cfg;
        this.random = new SplittableRandom(seed);
        this.rtt = new RttEstimator(cfg.initialRttNs(), cfg.minRtoNs(), cfg.maxRtoNs(), cfg.maxAckDelayNs());
        long nonce = random.nextLong();
        this.clientNonce = nonce == 0 ? 1 : nonce;
        this.maxDatagram = cfg.maxDatagramSize();
        this.control = new ControlSender(streams, timers, rtt, cfg.maxRtoNs());
        this.window = new SendWindow(timers, rtt, streams, control, cfg.sendBufferBytes());
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
        return window.bytesInFlight();
    }

    /** The receiver window the sender currently obeys (from WELCOME, then the newest ACK). */
    public long peerWindow() {
        return window.peerWindow();
    }

    /** The phase of a stream this connection holds; null for one it does not (refused, closed, unknown). */
    public StreamPhase streamPhase(int streamId) {
        AgentStreamTable.Stream s = streams.get(streamId);
        return s == null ? null : s.phase;
    }

    public long congestionWindow() {
        NewReno cc = window.congestion();
        return cc == null ? 0 : cc.window();
    }

    /** Nothing queued or unacknowledged. */
    public boolean allAcked() {
        return window.allAcked();
    }

    /** Payload bytes that {@link #send} accepts now (0 unless connected). */
    public long sendSpace() {
        return state == State.CONNECTED ? window.space() : 0;
    }

    public Stats stats() {
        NewReno cc = window.congestion();
        SendWindow w = window;
        return new Stats(packetsSent, w.dataPacketsSent, w.retransmissions, w.fastRetransmits, w.timeouts,
            w.acksReceived, dropped, rtt.srttNs(), rtt.rtoNs(), cc == null ? 0 : cc.window(), w.peerWindow(),
            w.bytesInFlight(), w.maxBytesInFlight, w.bytesAcked, w.spuriousRecoveries(),
            cc == null ? 0 : cc.lossesTolerated(), rtt.minRttNs(), w.probes);
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
        StreamOpen.Builder b = StreamOpen.newBuilder().setStreamId(streams.nextId()).setPath(path)
            .setGeneration(generation).setPreviousGenerationLength(previousGenerationLength);
        if (identity != null) {
            b.setIdentity(identity);
        }
        StreamOpen open = b.build();
        if (Wire.HEADER_LENGTH + open.getSerializedSize() > maxDatagram) {
            return -1;
        }
        AgentStreamTable.Stream s = streams.add(open);
        control.streamChanged();
        return s.id;
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
        AgentStreamTable.Stream s = streams.get(streamId);
        if (s == null || s.phase != StreamPhase.OPEN) {
            throw new IllegalStateException("stream " + streamId + " is not open");
        }
        return state == State.CONNECTED && window.enqueue(s, offset, src, index, length);
    }

    /** Ends a generation: STREAM_CLOSE is sent once its data is acknowledged, repeated until answered. */
    public void closeStream(int streamId, long finalLength) {
        AgentStreamTable.Stream s = streams.get(streamId);
        if (s == null) {
            return;
        }
        s.phase = StreamPhase.CLOSING;
        s.finalLength = finalLength;
        s.backoff = 0; // STREAM_CLOSE is a new message: its first copy is due at once
        control.streamChanged();
    }

    /** Sends LOSS_REPORT for bytes [from, to) of a stream, three times (best effort). */
    public void reportLoss(int streamId, long from, long to, String reason) {
        if (state != State.CONNECTED) {
            return;
        }
        control.reportLoss(LossReport.newBuilder().setStreamId(streamId).setFromOffset(from).setToOffset(to)
            .setReason(reason == null ? "" : reason).build());
    }

    /** Graceful close: CLOSE(NORMAL) is sent (three copies) on the next polls; the state becomes CLOSED. */
    public void close(long nowNs) {
        if (state == State.CLOSED) {
            return;
        }
        if (state == State.CONNECTED) {
            closeMessage = Close.newBuilder().setCode(CloseCode.NORMAL).setReason("agent closing").build();
            closeCopies = CLOSE_COPIES;
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
            if (w.getIdleTimeoutMs() > 0) {
                idleTimeoutNs = Math.min(idleTimeoutNs, w.getIdleTimeoutMs() * 1_000_000L);
            }
            if (w.getKeepaliveMs() > 0) {
                keepaliveNs = Math.min(keepaliveNs, w.getKeepaliveMs() * 1_000_000L);
            }
            window.connected(connectionId, maxDatagram, w.getInitialWindow());
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
            AgentStreamTable.Stream s = streams.get(r.getStreamId());
            if (s == null || s.phase != StreamPhase.OPENING) {
                return; // duplicate reply
            }
            if (r.getStatus() == StreamStatus.OK) {
                s.phase = StreamPhase.OPEN;
            } else {
                streams.remove(s.id);
            }
            control.streamChanged();
            events.add(new AgentEvent.StreamReplied(s.id, r.getStatus(), r.getResumeOffset(), r.getGeneration(),
                r.getMessage()));
        } else if (body instanceof StreamClosed c) {
            AgentStreamTable.Stream s = streams.get(c.getStreamId());
            if (s == null || s.phase != StreamPhase.CLOSING) {
                return;
            }
            streams.remove(s.id);
            control.streamChanged();
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
        if (ack.validate(Wire.MAX_MAX_DATAGRAM) != Wire.OK || !window.onAck(ack, nowNs)) {
            dropped++; // malformed, or acknowledges packets never sent: ignored entirely
            return;
        }
        for (int i = 0, n = ack.durableCount(); i < n; i++) {
            // A stream this connection does not hold (closed, refused, never opened) has nobody to tell.
            AgentStreamTable.Stream st = streams.get(ack.durableStreamId(i));
            if (st != null) {
                events.durable(st.durable, ack.durableOffset(i));
            }
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
            window.armProbe(); // what poll sent or declared lost moves the probe deadline
        }
        assert window.counters(state == State.CONNECTED);
        return len;
    }

    private int pollConnected(MutableDirectBuffer out, long nowNs) {
        if (timers.isExpired(Timer.IDLE, nowNs)) {
            closed(CloseCode.IDLE_TIMEOUT, "no datagram from server for " + idleTimeoutNs / 1_000_000 + " ms", 0);
            return 0;
        }
        window.onTimers(nowNs);
        if (timers.isExpired(Timer.PROBE, nowNs)) {
            return sent(window.sendProbe(out, nowNs), nowNs);
        }
        if (timers.isExpired(Timer.CONTROL, nowNs)) {
            int len = control.poll(out, maxDatagram, connectionId, nowNs);
            if (len > 0) {
                return sent(len, nowNs);
            }
        }
        int len = window.pollData(out, nowNs);
        if (len > 0) {
            return sent(len, nowNs);
        }
        if (timers.isExpired(Timer.KEEPALIVE, nowNs)) {
            return sent(window.encodePing(out, nowNs), nowNs);
        }
        return 0;
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

    /** When {@link #poll} should next be called (absolute ns); a value at or before now means now. */
    public long nextDeadline() {
        if (state == State.CLOSED) {
            return closeCopies > 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        long d = timers.next();
        if (state == State.CONNECTING || d == Long.MIN_VALUE) {
            return d;
        }
        if (window.waiting()) {
            if (window.nextPacketFits()) {
                return Long.MIN_VALUE; // data can go now
            }
            if (window.bytesInFlight() == 0 && !timers.isSet(Timer.PERSIST)) {
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
        return state == State.CONNECTED && window.bytesInFlight() > 0 && window.waiting() && !window.nextPacketFits();
    }
}
