package io.tailwire.server.admin;

import java.time.Instant;
import java.util.Map;

import io.tailwire.server.limit.IngestThrottle;
import io.tailwire.server.status.Metrics;
import io.tailwire.server.status.StatusSource;

/** Registers the metrics the admin package itself can derive: throttle settings and per-agent status. */
public final class AdminMetrics {
    private AdminMetrics() {
    }

    /** {@code tailwire_throttle_*}: the current settings (-1 unlimited, 0 paused). */
    public static void registerThrottle(Metrics m, IngestThrottle throttle) {
        m.gauge("tailwire_throttle_global_bytes_per_second",
                "Server-wide ingest rate limit in bytes per second (-1 unlimited, 0 paused).", throttle::global);
        m.gaugeFamily("tailwire_throttle_agent_bytes_per_second",
                "Per-agent ingest rate limit in bytes per second, for agents that have one (0 paused).",
                out -> {
                    for (Map.Entry<String, Long> e : throttle.snapshot().agents().entrySet()) {
                        out.add(e.getValue(), "agent", e.getKey());
                    }
                });
    }

    /** {@code tailwire_agent_*}: one sample per agent the status source reports. */
    public static void registerAgents(Metrics m, StatusSource status) {
        m.gaugeFamily("tailwire_agent_connected", "1 if the agent has a live connection, else 0.", out -> {
            for (StatusSource.Agent a : status.agents()) {
                out.add(a.connected() ? 1 : 0, "agent", a.agentId());
            }
        });
        m.gaugeFamily("tailwire_agent_window_bytes", "Receive window last advertised to the agent.", out -> {
            for (StatusSource.Agent a : status.agents()) {
                if (a.window() >= 0) {
                    out.add(a.window(), "agent", a.agentId());
                }
            }
        });
        m.counterFamily("tailwire_agent_received_bytes_total", "New payload bytes received from the agent.",
                out -> {
                    for (StatusSource.Agent a : status.agents()) {
                        out.add(a.bytesReceived(), "agent", a.agentId());
                    }
                });
        m.gaugeFamily("tailwire_agent_streams", "Open streams of the agent.", out -> {
            for (StatusSource.Agent a : status.agents()) {
                out.add(a.streams().size(), "agent", a.agentId());
            }
        });
        m.gaugeFamily("tailwire_agent_unsynced_bytes",
                "Bytes held for the agent's open streams but not yet durable (disk lag).", out -> {
                    for (StatusSource.Agent a : status.agents()) {
                        out.add(a.unsyncedBytes(), "agent", a.agentId());
                    }
                });
        m.gaugeFamily("tailwire_agent_last_seen_seconds",
                "Unix time of the last datagram from the agent.", out -> {
                    for (StatusSource.Agent a : status.agents()) {
                        Instant t = a.lastSeen();
                        if (t != null) {
                            out.add(t.toEpochMilli() / 1000.0, "agent", a.agentId());
                        }
                    }
                });
    }
}
