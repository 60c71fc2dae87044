package io.tailwire.engine;

import io.tailwire.config.Configuration;
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
        return new ServerEndpointConfig(Configuration.SERVER_MAX_DATAGRAM_BYTES, Configuration.MAX_CONNECTIONS,
            Configuration.CONNECTION_BUFFER_BYTES, Configuration.INITIAL_WINDOW_BYTES,
            Configuration.MAX_STREAMS_PER_CONNECTION, Configuration.IDLE_TIMEOUT_NS,
            Configuration.KEEPALIVE_INTERVAL_NS, Configuration.MAX_ACK_DELAY_NS, Configuration.RETRY_TOKEN_VALIDITY_NS,
            Configuration.BUSY_RETRY_AFTER_MS, Configuration.APPEND_RETRY_NS);
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
