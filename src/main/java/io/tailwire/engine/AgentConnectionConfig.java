package io.tailwire.engine;

import com.google.protobuf.ByteString;

import io.tailwire.config.Configuration;
import io.tailwire.wire.Wire;

/**
 * Agent-side protocol settings (wire-spec.md section 8). {@code sendBufferBytes} bounds the payload
 * bytes queued or unacknowledged at once (besides the 1024-packet SACK range). {@code instanceId} is sent as
 * Hello.instance_id (wire-spec.md 3; empty: none).
 */
public record AgentConnectionConfig(String agentId, int maxDatagramSize, long connectTimeoutNs, long idleTimeoutNs,
                                    long keepaliveNs, long sendBufferBytes, long initialRttNs, long minRtoNs,
                                    long maxRtoNs, long maxAckDelayNs, ByteString instanceId) {
    /** Without an instance identity. */
    public AgentConnectionConfig(String agentId, int maxDatagramSize, long connectTimeoutNs, long idleTimeoutNs,
                                 long keepaliveNs, long sendBufferBytes, long initialRttNs, long minRtoNs,
                                 long maxRtoNs, long maxAckDelayNs) {
        this(agentId, maxDatagramSize, connectTimeoutNs, idleTimeoutNs, keepaliveNs, sendBufferBytes, initialRttNs,
            minRtoNs, maxRtoNs, maxAckDelayNs, ByteString.EMPTY);
    }

    public AgentConnectionConfig {
        if (instanceId == null) {
            instanceId = ByteString.EMPTY;
        }
        if (maxDatagramSize < Wire.MIN_MAX_DATAGRAM || maxDatagramSize > Wire.MAX_MAX_DATAGRAM) {
            throw new IllegalArgumentException("maxDatagramSize out of 1200..65507: " + maxDatagramSize);
        }
        if (sendBufferBytes < maxDatagramSize) {
            throw new IllegalArgumentException("sendBufferBytes below one datagram");
        }
    }

    public static AgentConnectionConfig defaults(String agentId) {
        return new AgentConnectionConfig(agentId, Configuration.AGENT_MAX_DATAGRAM_BYTES,
            Configuration.CONNECT_TIMEOUT_NS, Configuration.IDLE_TIMEOUT_NS, Configuration.KEEPALIVE_INTERVAL_NS,
            Configuration.SEND_BUFFER_BYTES, Configuration.INITIAL_RTT_NS, Configuration.MIN_RTO_NS,
            Configuration.MAX_RTO_NS, Configuration.MAX_ACK_DELAY_NS);
    }

    public AgentConnectionConfig withMaxDatagramSize(int size) {
        return new AgentConnectionConfig(agentId, size, connectTimeoutNs, idleTimeoutNs, keepaliveNs,
            sendBufferBytes, initialRttNs, minRtoNs, maxRtoNs, maxAckDelayNs, instanceId);
    }

    public AgentConnectionConfig withSendBufferBytes(long bytes) {
        return new AgentConnectionConfig(agentId, maxDatagramSize, connectTimeoutNs, idleTimeoutNs, keepaliveNs,
            bytes, initialRttNs, minRtoNs, maxRtoNs, maxAckDelayNs, instanceId);
    }

    public AgentConnectionConfig withTimeouts(long connectTimeoutNs, long idleTimeoutNs, long keepaliveNs) {
        return new AgentConnectionConfig(agentId, maxDatagramSize, connectTimeoutNs, idleTimeoutNs, keepaliveNs,
            sendBufferBytes, initialRttNs, minRtoNs, maxRtoNs, maxAckDelayNs, instanceId);
    }

    /** The identity sent in HELLO, so the server can tell this agent restarting from another with its id. */
    public AgentConnectionConfig withInstanceId(ByteString id) {
        return new AgentConnectionConfig(agentId, maxDatagramSize, connectTimeoutNs, idleTimeoutNs, keepaliveNs,
            sendBufferBytes, initialRttNs, minRtoNs, maxRtoNs, maxAckDelayNs, id);
    }
}
