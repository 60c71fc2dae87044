package io.tailwire.run;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;

import io.tailwire.config.Configuration;
import io.tailwire.agent.AgentCore;
import io.tailwire.http.Health;
import io.tailwire.http.HttpEndpoint;
import io.tailwire.http.Json;
import io.tailwire.http.MetricRegistry;

/**
 * The agent's admin HTTP endpoint ({@code udp-agent --admin HOST:PORT}, off by default), read-only:
 * {@code GET /metrics} (Prometheus), {@code GET /status} (JSON), {@code GET /health} and {@code GET /ready}.
 * The same {@link HttpEndpoint} as the server's, so the same Host, Origin and body checks. Everything it
 * shows comes from the {@link AgentStatus} the agent's loop publishes, so it never touches the loop's state.
 */
final class AgentAdmin implements AutoCloseable {
    private final Supplier<AgentStatus> status;
    private final MetricRegistry metrics;
    private final HttpEndpoint http;

    AgentAdmin(InetSocketAddress bind, Supplier<AgentStatus> status, Health health, Consumer<String> log) {
        this(bind, status, health, log, Configuration.ADMIN_REQUEST_TIMEOUT_MS);
    }

    AgentAdmin(InetSocketAddress bind, Supplier<AgentStatus> status, Health health, Consumer<String> log,
               long requestTimeoutMs) {
        this.status = status;
        this.metrics = MetricRegistry.withBuildInfo(log);
        metrics.registerJvmMetrics();
        register();
        Map<String, HttpEndpoint.Handler> routes = new LinkedHashMap<>();
        routes.put("/status", r -> {
            r.only("GET");
            r.send(200, HttpEndpoint.JSON, statusJson());
        });
        routes.put("/metrics", HttpEndpoint.metricsRoute(metrics));
        routes.putAll(HttpEndpoint.healthRoutes(health));
        this.http = new HttpEndpoint(bind, routes, log, requestTimeoutMs);
    }

    void start() throws IOException {
        http.start();
    }

    int port() {
        return http.port();
    }

    @Override
    public void close() {
        http.close();
    }

    /** One line to log as a warning when {@code bind} is not loopback, or null when it is. */
    static String exposureWarning(InetSocketAddress bind) {
        InetAddress a = bind.getAddress();
        if (a != null && a.isLoopbackAddress()) {
            return null;
        }
        return "admin endpoint on " + HttpEndpoint.show(bind) + " is reachable from other hosts and has no "
            + "authentication: anyone who can connect can read /status (the paths shipped) and /metrics; bind it to "
            + "127.0.0.1 unless a firewall allows only trusted hosts";
    }

    // ------------------------------------------------------------------ /metrics

    private void register() {
        perFile("tailwire_file_size_bytes", "Bytes in the file generation (its final length once it ended).",
            AgentCore.FileLag::size);
        perFile("tailwire_file_read_bytes", "Bytes of the file generation read by the agent.", AgentCore.FileLag::read);
        perFile("tailwire_file_durable_bytes", "Bytes of the file generation durable at the server "
            + "(acknowledged).", AgentCore.FileLag::durable);
        perFile("tailwire_file_lag_bytes", "Bytes in the file generation not yet durable at the server: what a "
            + "crash of this host could still make the server miss.", AgentCore.FileLag::behind);
        metrics.register(GaugeWithCallback.builder().name("tailwire_server_connected")
            .help("1 while the connection to the server is established, else 0.")
            .callback(out -> out.call(now().connected() ? 1 : 0)).build());
        metrics.register(CounterWithCallback.builder().name("tailwire_source_lost_bytes_total")
            .help("Bytes lost at the source: rotated or truncated away before they could be read (reported to the "
                + "server as LOSS).")
            .callback(out -> out.call(now().lostBytes())).build());
        metrics.register(CounterWithCallback.builder().name("tailwire_source_loss_events_total")
            .help("Losses at the source (each a range of bytes gone before it could be read).")
            .callback(out -> out.call(now().lossEvents())).build());
        metrics.register(CounterWithCallback.builder().name("tailwire_queued_bytes_total")
            .help("File bytes handed to the connection for sending (counted again when resent after a "
                + "reconnect).")
            .callback(out -> out.call(now().queuedBytes())).build());
    }

    private void perFile(String name, String help, Function<AgentCore.FileLag, Long> value) {
        metrics.register(GaugeWithCallback.builder().name(name).help(help).labelNames("path", "generation")
            .callback(out -> {
                for (AgentCore.FileLag f : now().files()) {
                    out.call(value.apply(f), f.path(), Long.toString(f.generation()));
                }
            }).build());
    }

    private AgentStatus now() {
        AgentStatus s = status.get();
        if (s == null) {
            throw new IllegalStateException("the agent has not published its status yet");
        }
        return s;
    }

    // ------------------------------------------------------------------ /status

    /**
     * {"agent":..,"server":..,"connected":..,"state":..,"connection_id":hex or null,"lost_bytes":..,
     * "loss_events":..,"queued_bytes":..,"published_at":..,
     * "files":[{"path":..,"generation":..,"size":..,"read":..,"durable":..,"lag_bytes":..}]}.
     */
    private String statusJson() {
        AgentStatus s = now();
        Json j = new Json(new StringBuilder(256 + s.files().size() * 160)).beginObject()
            .field("agent", s.agentId())
            .field("server", s.server())
            .field("connected", s.connected())
            .field("state", s.state())
            .field("connection_id", s.connectionId() == -1 ? null : Long.toHexString(s.connectionId()))
            .field("lost_bytes", s.lostBytes())
            .field("loss_events", s.lossEvents())
            .field("queued_bytes", s.queuedBytes())
            .field("published_at", s.publishedAt().toString());
        j.name("files").beginArray();
        for (AgentCore.FileLag f : s.files()) {
            j.beginObject()
                .field("path", f.path())
                .field("generation", f.generation())
                .field("size", f.size())
                .field("read", f.read())
                .field("durable", f.durable())
                .field("lag_bytes", f.behind())
                .endObject();
        }
        return j.endArray().endObject().toString() + "\n";
    }
}
