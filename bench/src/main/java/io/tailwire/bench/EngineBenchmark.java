package io.tailwire.bench;

import io.tailwire.engine.AgentConnection;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.AgentEvents;
import io.tailwire.engine.ServerEndpoint;
import io.tailwire.engine.ServerEndpointConfig;
import io.tailwire.engine.ServerEvents;
import io.tailwire.engine.StoredStream;
import io.tailwire.engine.StreamStore;
import io.tailwire.proto.CloseCode;
import io.tailwire.proto.StreamOpen;
import io.tailwire.proto.StreamStatus;
import io.tailwire.wire.Wire;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The per-packet engine path with no sockets and a store that only counts: one operation is one
 * full-size DATA packet through AgentConnection.send/poll (sender), ServerEndpoint.onDatagram (receiver:
 * validation, SACK mark, reorder buffer insert, in-order delivery to the store), the ACKs the server
 * then polls (encode) and AgentConnection.onDatagram processing them (sender ACK processing, RTT, window).
 * Virtual time advances 20 µs per packet, so ACKs come at the server's ack cadence.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Thread)
public class EngineBenchmark {
    /** Accepts everything and makes it durable at once: no copy, no disk. */
    static final class CountingStore implements StreamStore {
        @Override
        public OpenResult open(String agentId, StreamOpen request) {
            long gen = request.getGeneration() == 0 ? 1 : request.getGeneration();
            return new OpenResult(StreamStatus.OK, 0, gen, "", new StoredStream() {
                long held;

                @Override
                public long held() {
                    return held;
                }

                @Override
                public long durable() {
                    return held;
                }

                @Override
                public boolean append(long offset, DirectBuffer src, int index, int length) {
                    held = Math.max(held, offset + length);
                    return true;
                }

                @Override
                public void release() {
                }
            });
        }
    }

    private ServerEndpoint server;
    private AgentConnection agent;
    private final InetSocketAddress addr = new InetSocketAddress("10.0.0.2", 5000);
    private final UnsafeBuffer a2s = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    private final UnsafeBuffer s2a = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    private UnsafeBuffer src;
    private int sid = -1;
    private boolean connected;
    private long now = 1_000_000_000L;
    private long offset;

    @Setup
    public void setup() {
        server = new ServerEndpoint(ServerEndpointConfig.defaults(), new byte[] {1}, 1, new CountingStore(),
            ServerEvents.NONE);
        agent = new AgentConnection(AgentConnectionConfig.defaults("bench"), now, 2, new AgentEvents() {
            @Override
            public void onConnected(long c, long s) {
                connected = true;
            }

            @Override
            public void onStreamReply(int id, StreamStatus st, long r, long g, String m) {
                sid = id;
            }

            @Override
            public void onDurable(int id, long d) {
            }

            @Override
            public void onStreamClosed(int id, long d) {
            }

            @Override
            public void onClosed(CloseCode c, String r, long ms) {
                throw new IllegalStateException("closed: " + c + " " + r);
            }
        });
        boolean opened = false;
        for (int i = 0; i < 100 && sid < 0; i++) {
            exchange();
            if (connected && !opened) {
                agent.openStream("/bench.log", 1, null, 0);
                opened = true;
            }
            now += 100_000;
        }
        if (sid < 0) {
            throw new IllegalStateException("stream did not open");
        }
        byte[] payload = new byte[agent.maxPayload()];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) ('a' + i % 26);
        }
        src = new UnsafeBuffer(payload);
    }

    private int exchange() {
        int n;
        int packets = 0;
        while ((n = agent.poll(a2s, now)) > 0) {
            server.onDatagram(addr, a2s, 0, n, now);
            packets++;
        }
        while ((n = server.poll(s2a, now)) > 0) {
            agent.onDatagram(s2a, 0, n, now);
        }
        return packets;
    }

    @Benchmark
    public int dataPacketRoundTrip() {
        int len = src.capacity();
        if (agent.sendSpace() >= len && agent.send(sid, offset, src, 0, len)) {
            offset += len;
        }
        now += 20_000;
        return exchange();
    }
}
