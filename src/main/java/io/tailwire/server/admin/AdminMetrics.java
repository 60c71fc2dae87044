package io.tailwire.server.admin;

import java.time.Instant;
import java.util.Map;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;

import io.tailwire.http.MetricRegistry;
import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.status.StatusSource;

/** Registers the metrics the admin package itself can derive: throttle settings and per-agent status. */
public final class AdminMetrics {
    private AdminMetrics() {
    }

    /** {@code tailwire_throttle_*}: the current settings (-1 unlimited, 0 paused). */
    public static void registerThrottle(MetricRegistry m, IngestThrottle throttle) {
        m.register(GaugeWithCallback.builder().name("tailwire_throttle_global_bytes_per_second")
            .help("Server-wide ingest rate limit in bytes per second (-1 unlimited, 0 paused).")
            .callback(out -> out.call(throttle.global())).build());
        m.register(GaugeWithCallback.builder().name("tailwire_throttle_agent_bytes_per_second")
            .help("Per-agent ingest rate limit in bytes per second, for agents that have one (0 paused).")
            .labelNames("agent")
            .callback(out -> {
                for (Map.Entry<String, Long> e : throttle.snapshot().agents().entrySet()) {
                    out.call(e.getValue(), e.getKey());
                }
            }).build());
    }

    /** {@code tailwire_agent_*}: one sample per agent the status source reports. */
    public static void registerAgents(MetricRegistry m, StatusSource status) {
        m.register(GaugeWithCallback.builder().name("tailwire_agent_connected")
            .help("1 if the agent has a live connection, else 0.").labelNames("agent")
            .callback(out -> {
                for (StatusSource.Agent a : status.agents()) {
                    out.call(a.connected() ? 1 : 0, a.agentId());
                }
            }).build());
        m.register(GaugeWithCallback.builder().name("tailwire_agent_window_bytes")
            .help("Receive window last advertised to the agent.").labelNames("agent")
            .callback(out -> {
                for (StatusSource.Agent a : status.agents()) {
                    if (a.window() >= 0) {
                        out.call(a.window(), a.agentId());
                    }
                }
            }).build());
        m.register(CounterWithCallback.builder().name("tailwire_agent_received_bytes_total")
            .help("New payload bytes received from the agent.").labelNames("agent")
            .callback(out -> {
                for (StatusSource.Agent a : status.agents()) {
                    out.call(a.bytesReceived(), a.agentId());
                }
            }).build());
        m.register(GaugeWithCallback.builder().name("tailwire_agent_streams")
            .help("Open streams of the agent.").labelNames("agent")
            .callback(out -> {
                for (StatusSource.Agent a : status.agents()) {
                    out.call(a.streams().size(), a.agentId());
                }
            }).build());
        m.register(GaugeWithCallback.builder().name("tailwire_agent_unsynced_bytes")
            .help("Bytes held for the agent's open streams but not yet durable (disk lag).").labelNames("agent")
            .callback(out -> {
                for (StatusSource.Agent a : status.agents()) {
                    out.call(a.unsyncedBytes(), a.agentId());
                }
            }).build());
        m.register(GaugeWithCallback.builder().name("tailwire_agent_last_seen_seconds")
            .help("Unix time of the last datagram from the agent.").labelNames("agent")
            .callback(out -> {
                for (StatusSource.Agent a : status.agents()) {
                    Instant t = a.lastSeen();
                    if (t != null) {
                        out.call(t.toEpochMilli() / 1000.0, a.agentId());
                    }
                }
            }).build());
    }
}
