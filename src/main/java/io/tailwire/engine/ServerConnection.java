package io.tailwire.engine;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;

import io.tailwire.proto.StreamOpen;
import io.tailwire.wire.Wire;

import org.agrona.collections.Int2ObjectHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The server's state of one connection: identity, reorder ring, stream table, and what its next ACK must say.
 * Plain data: the rooms of {@link ServerEndpoint} act on it.
 */
@EngineThread
final class ServerConnection {
    static final int RING = Wire.SACK_RANGE;
    static final int MASK = RING - 1;

    final long id;
    final String agentId;
    final InetSocketAddress address;
    final long clientNonce;
    /** Hello.instance_id: who holds the agent id; another instance is refused while this lives. */
    final com.google.protobuf.ByteString instanceId;
    /** The refused claimant last logged, so a conflict is logged once per episode, not per HELLO. */
    InetSocketAddress conflictLogged;
    final byte[] welcome;
    final int maxDatagram;
    long lastReceivedNs;

    final SackBitmap tracker = new SackBitmap();
    final UnsafeBuffer[] slots = new UnsafeBuffer[RING];
    final int[] slotLength = new int[RING];
    final ArrayDeque<UnsafeBuffer> spareSlots = new ArrayDeque<>();
    long deliveredPn;
    long bufferedBytes;
    /** Heap the reorder ring really holds: each buffered slot's capacity plus SLOT_OVERHEAD_BYTES. */
    long heldBytes;
    /** Payload sent into a full buffer since our last ACK (EXCEEDED_ALLOWANCE, wire-spec.md 7.1). */
    long overflowSinceAck;
    long undurableBytes;

    final Int2ObjectHashMap<ServerStream> streams = new Int2ObjectHashMap<>();
    final HashMap<Integer, Long> recentlyClosed = new HashMap<>();
    /** Refused STREAM_OPENs' replies, the last RECENTLY_CLOSED of them: not streams, not counted. */
    final HashMap<Integer, ServerStream> refused = new HashMap<>();
    final ArrayDeque<Integer> refusedOrder = new ArrayDeque<>();
    /** STREAM_OPENs waiting for this turn's batch of store opens, by stream id. */
    final Int2ObjectHashMap<StreamOpen> openingIds = new Int2ObjectHashMap<>();
    /** A PING arrived: its ACK repeats every durable offset (wire-spec.md 5). */
    boolean repeatDurable;
    /** Where (in stream-table order) the next PING's repeated entries start, when 64 did not hold them all. */
    int repeatFrom;
    final ArrayDeque<Integer> recentlyClosedOrder = new ArrayDeque<>();
    int pendingCloses;

    int unackedData;
    boolean ackNow;
    long ackDeadlineNs = Long.MAX_VALUE;
    long echoTimestamp;
    long echoArrivalNs;
    long lastAdvertisedWindow;
    boolean durableDirty;
    boolean closeCheck;
    long stalledUntilNs = Long.MAX_VALUE;
    final long connectedAtNs;
    long lastDataNs = Long.MIN_VALUE;
    long bytesReceived;
    /** When the limiter may allow a window again after we advertised 0 (wire-spec.md 7.2). */
    long limiterTimerNs = Long.MAX_VALUE;

    /** Index in the table's arrival-order list, kept by {@link ServerConnections}. */
    int position = -1;
    /** Place in {@link ServerTimers}' heap, -1 when not in it. */
    int heapIndex = -1;
    /** The earliest deadline as {@link ServerTimers} last keyed it. */
    long timerKey = Long.MAX_VALUE;

    ServerConnection(long id, String agentId, InetSocketAddress address, long clientNonce,
                     com.google.protobuf.ByteString instanceId, byte[] welcome, int maxDatagram, long nowNs,
                     int initialWindow) {
        this.id = id;
        this.agentId = agentId;
        this.address = address;
        this.clientNonce = clientNonce;
        this.instanceId = instanceId;
        this.welcome = welcome;
        this.maxDatagram = maxDatagram;
        this.lastReceivedNs = nowNs;
        this.connectedAtNs = nowNs;
        this.lastAdvertisedWindow = initialWindow;
    }

    long maxPayload() {
        return maxDatagram - Wire.DATA_HEADER_LENGTH;
    }

    boolean stalled() {
        return stalledUntilNs != Long.MAX_VALUE;
    }

    /** When it last sent DATA, or connected if it never did: how long it has been quiet. */
    long quietSinceNs() {
        return lastDataNs == Long.MIN_VALUE ? connectedAtNs : lastDataNs;
    }
}
