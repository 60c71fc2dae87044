package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.wire.Wire;

import org.junit.jupiter.api.Test;

/**
 * Many agents sending at once must not put more in flight than the server's UDP socket can hold (wire-spec
 * 7.1, socket share): the kernel would drop the excess silently. 1000 real agents lost 33,000 datagrams
 * that way before the windows were bounded by the socket budget.
 */
class SocketBudgetTest {
    static final int AGENTS = 50;
    static final long MPS = Wire.DEFAULT_MAX_DATAGRAM - Wire.DATA_HEADER_LENGTH;

    /**
     * Largest total of bytes in flight over all agents from 10 ms (5 RTTs, past the first flights, which are
     * sent on WELCOME's initial windows before any ACK) to 40 ms of a bulk transfer all start together.
     */
    static long maxTotalInFlight(long socketBudget) {
        MultiAgentNet net = new MultiAgentNet(3, ServerEndpointConfig.defaults(), AGENTS, Long.MAX_VALUE, 0, NANOS_PER_MILLI);
        net.server.setMemoryBudget(16 << 20); // bounds the unbounded case (and this test's heap)
        if (socketBudget > 0) {
            net.server.setSocketBudget(socketBudget);
        }
        long from = net.now + 10 * NANOS_PER_MILLI;
        long end = net.now + 40 * NANOS_PER_MILLI;
        long max = 0;
        while (net.now < end) {
            net.step();
            if (net.now < from) {
                continue;
            }
            long total = 0;
            for (MultiAgentNet.Peer p : net.peers) {
                total += p.conn.bytesInFlight();
            }
            max = Math.max(max, total);
        }
        return max;
    }

    @Test
    void allAgentsTogetherKeepWithinTheSocketBudget() {
        long budget = 2 * AGENTS * MPS;
        long unbounded = maxTotalInFlight(0);
        assertTrue(unbounded > 3 * budget, "without a socket budget the herd would overflow it: " + unbounded);
        long bounded = maxTotalInFlight(budget);
        // Each agent may exceed its share by one packet (the oldest lost one, sent with nothing in flight).
        assertTrue(bounded <= budget + AGENTS * MPS, "in flight " + bounded + " over a budget of " + budget);
    }
}
