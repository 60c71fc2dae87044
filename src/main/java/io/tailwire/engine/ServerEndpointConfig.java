package io.tailwire.engine;

import static io.tailwire.io.Units.NANOS_PER_MILLI;

import io.tailwire.wire.Wire;

/**
 * Server-side protocol settings. {@code connectionBudgetBytes} is each connection's receive buffer
 * (reorder buffer plus bytes written but not yet durable); the advertised window is what is free of it.
 */
public record ServerEndpointConfig(int maxDatagramSize, int maxConnections, long connectionBudgetBytes,
                                   int initialWindow, int maxStreamsPerConnection, long idleTimeoutNs,
                                   long keepaliveNs, long maxAckDelayNs, long tokenValidityNs,
                                   int busyRetryAfterMs, long appendRetryNs) {
    public ServerEndpointConfig {
        if (maxDatagramSize < Wire.MIN_MAX_DATAGRAM || maxDatagramSize > Wire.MAX_MAX_DATAGRAM) {
            throw new IllegalArgumentException("maxDatagramSize out of 1200..65507: " + maxDatagramSize);
        }
        if (maxConnections < 1 || maxStreamsPerConnection < 1 || connectionBudgetBytes < maxDatagramSize) {
            throw new IllegalArgumentException("bad limits");
        }
    }

    public static ServerEndpointConfig defaults() {
        return new ServerEndpointConfig(Wire.DEFAULT_MAX_DATAGRAM, 1024, 1 << 20, 256 * 1024, 4096, 30_000 * NANOS_PER_MILLI,
            5000 * NANOS_PER_MILLI, NANOS_PER_MILLI, 30_000 * NANOS_PER_MILLI, 1000, 10 * NANOS_PER_MILLI);
    }

    public ServerEndpointConfig withMaxConnections(int n) {
        return new ServerEndpointConfig(maxDatagramSize, n, connectionBudgetBytes, initialWindow,
            maxStreamsPerConnection, idleTimeoutNs, keepaliveNs, maxAckDelayNs, tokenValidityNs, busyRetryAfterMs,
            appendRetryNs);
    }

    public ServerEndpointConfig withBudget(long budgetBytes, int initialWindow) {
        return new ServerEndpointConfig(maxDatagramSize, maxConnections, budgetBytes, initialWindow,
            maxStreamsPerConnection, idleTimeoutNs, keepaliveNs, maxAckDelayNs, tokenValidityNs, busyRetryAfterMs,
            appendRetryNs);
    }

    public ServerEndpointConfig withMaxStreams(int n) {
        return new ServerEndpointConfig(maxDatagramSize, maxConnections, connectionBudgetBytes, initialWindow, n,
            idleTimeoutNs, keepaliveNs, maxAckDelayNs, tokenValidityNs, busyRetryAfterMs, appendRetryNs);
    }
}
