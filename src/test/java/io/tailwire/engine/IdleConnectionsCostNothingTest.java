package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static io.tailwire.io.Units.NANOS_PER_SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;

import com.google.protobuf.ByteString;

import io.tailwire.proto.Hello;
import io.tailwire.proto.Retry;
import io.tailwire.proto.Welcome;
import io.tailwire.wire.ControlCodec;
import io.tailwire.wire.PingFlyweight;
import io.tailwire.wire.Wire;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * A turn's work does not grow with idle connections (issue 12, issue 16 point 2): the same active traffic
 * costs the server's timer room the same number of connection visits (ServerTimers.touched: heap entries
 * examined, watched connections checked, re-keyings) beside 10,000 idle connections as beside none. Counted
 * in operations, in virtual time; no wall clock.
 */
class IdleConnectionsCostNothingTest {
    static final int IDLE = 10_000;
    static final long T0 = 1_000 * NANOS_PER_SECOND;

    private final UnsafeBuffer in = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);
    private final UnsafeBuffer out = new UnsafeBuffer(new byte[Wire.MAX_MAX_DATAGRAM]);

    private ServerEndpoint server(int maxConnections) {
        ServerEndpoint s = new ServerEndpoint(ServerEndpointConfig.defaults().withMaxConnections(maxConnections),
            "secret".getBytes(), 7, new FakeStore(), ServerEvents.NONE);
        s.setSourceLimits(maxConnections, 1_000_000);
        return s;
    }

    private static InetSocketAddress address(int i) {
        return new InetSocketAddress("10.1." + (i >> 8 & 0xff) + "." + (i & 0xff), 40_000 + (i >> 16));
    }

    /** HELLO, RETRY, HELLO with the token, WELCOME: returns the connection id. */
    private long connect(ServerEndpoint s, int i, long now) {
        Hello.Builder hello = Hello.newBuilder().setAgentId("agent-" + i).setClientNonce(i + 1)
            .setInstanceId(ByteString.copyFromUtf8("instance-" + i));
        int len = ControlCodec.encode(in, 0, Wire.MAX_MAX_DATAGRAM, 0, hello.build());
        s.onDatagram(address(i), in, 0, len, now);
        Retry retry = (Retry) ControlCodec.decode(out, 0, s.poll(out, now), Wire.MAX_MAX_DATAGRAM).body();
        len = ControlCodec.encode(in, 0, Wire.MAX_MAX_DATAGRAM, 0, hello.setToken(retry.getToken()).build());
        s.onDatagram(address(i), in, 0, len, now);
        Welcome w = (Welcome) ControlCodec.decode(out, 0, s.poll(out, now), Wire.MAX_MAX_DATAGRAM).body();
        assertEquals(0, s.poll(out, now));
        return w.getConnectionId();
    }

    /**
     * One active connection PINGs every millisecond for 200 ms and gets each ACK; every turn also asks for the
     * next deadline. Returns what the timer room touched meanwhile.
     */
    private long activeTraffic(ServerEndpoint s, long activeId, long from) {
        PingFlyweight ping = new PingFlyweight();
        long before = s.timersTouched();
        for (int t = 0; t < 200; t++) {
            long now = from + t * NANOS_PER_MILLI;
            ping.wrapForEncode(in, 0, in.capacity());
            int len = ping.encode(activeId, now);
            s.onDatagram(address(IDLE + 1), in, 0, len, now);
            assertTrue(s.nextDeadline() <= now, "a PING's ACK is due at once");
            assertTrue(s.poll(out, now) > 0, "the ACK");
            assertEquals(0, s.poll(out, now));
            assertTrue(s.nextDeadline() > now, "nothing more to do until a deadline");
        }
        return s.timersTouched() - before;
    }

    @Test
    void aTurnsWorkIsTheSameBesideTenThousandIdleConnectionsAsBesideNone() {
        ServerEndpoint alone = server(IDLE + 2);
        long activeAlone = connect(alone, IDLE + 1, T0);
        ServerEndpoint crowded = server(IDLE + 2);
        for (int i = 0; i < IDLE; i++) {
            connect(crowded, i, T0);
        }
        long activeCrowded = connect(crowded, IDLE + 1, T0);
        assertEquals(IDLE + 1, crowded.connectionCount());

        long start = T0 + 10 * NANOS_PER_MILLI;
        long touchedAlone = activeTraffic(alone, activeAlone, start);
        long touchedCrowded = activeTraffic(crowded, activeCrowded, start);

        assertEquals(touchedAlone, touchedCrowded, "idle connections were visited");
        assertTrue(touchedAlone < 10 * 200, "a few visits per turn: " + touchedAlone);
        // The idle ones are still there and their deadline is still the exact earliest one: idle timeout.
        assertEquals(IDLE + 1, crowded.connectionCount());
        assertEquals(T0 + ServerEndpointConfig.defaults().idleTimeoutNs(), crowded.nextDeadline());
    }

    @Test
    void idleConnectionsExpireAtTheirExactDeadlineAndOnlyThen() {
        ServerEndpoint s = server(IDLE + 2);
        long idle = ServerEndpointConfig.defaults().idleTimeoutNs();
        for (int i = 0; i < 100; i++) {
            connect(s, i, T0 + i * NANOS_PER_MILLI); // one every millisecond: deadlines one apart
        }
        for (int i = 0; i < 100; i++) {
            long deadline = T0 + i * NANOS_PER_MILLI + idle;
            assertEquals(deadline, s.nextDeadline(), "the earliest deadline, to the nanosecond");
            assertEquals(0, s.poll(out, deadline - 1));
            assertEquals(100 - i, s.connectionCount(), "nothing closes before its deadline");
            assertEquals(0, s.poll(out, deadline));
            assertEquals(100 - i - 1, s.connectionCount(), "exactly one closes at its deadline");
        }
        assertEquals(Long.MAX_VALUE, s.nextDeadline());
    }
}
