package io.tailwire.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.MetricType;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.MetricFamilyDescriptor;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

/**
 * The metrics an admin endpoint serves on {@code GET /metrics}, on Prometheus' official Java client: the
 * callers register the client's metrics (mostly {@code GaugeWithCallback} and {@code CounterWithCallback}
 * reading published state on each scrape), and the client's writers produce the exposition text, escaping
 * and format versions included.
 *
 * <p>One thing is added around the client: a metric whose collection throws (a callback's bug, two samples
 * with the same labels) is left out of that scrape, and logged once per distinct failure, instead of failing
 * the whole scrape (the client's registry would): one broken family must not blind every dashboard.
 * Callbacks run on the admin HTTP threads, so they must read only thread-safe state and never block.
 */
public final class MetricRegistry {
    /** The 0.0.4 text format: what Prometheus reads by default, and what a scrape without Accept gets. */
    public static final String TEXT_CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    /** The build this code comes from, or "unknown" when run from classes Maven did not filter. */
    public static final String VERSION = readVersion();

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter text = PrometheusTextFormatWriter.create();
    private final OpenMetricsTextFormatWriter openMetrics = OpenMetricsTextFormatWriter.create();
    private final Consumer<String> log;
    private boolean jvm;

    /** {@code log} receives one line when a metric's collection starts failing (or fails differently). */
    public MetricRegistry(Consumer<String> log) {
        this.log = Objects.requireNonNull(log, "log");
    }

    /**
     * A registry with {@code tailwire_build_info{version}} (always 1: the version is the label, as
     * Prometheus' own {@code prometheus_build_info}) and, see {@link #registerJvmMetrics}, nothing else.
     */
    public static MetricRegistry withBuildInfo(Consumer<String> log) {
        MetricRegistry m = new MetricRegistry(log);
        Info build = Info.builder().name("tailwire_build_info")
            .help("Tailwire's build: the version label; the value is always 1.").labelNames("version").build();
        build.setLabelValues(VERSION);
        m.register(build);
        return m;
    }

    /**
     * Adds the client's JVM metrics (memory, GC, threads, classes, process CPU and file descriptors) once;
     * later calls do nothing. Kept apart from the constructor because they hook GC notifications for the
     * registry's lifetime: only registries that are served need them.
     */
    public synchronized void registerJvmMetrics() {
        if (!jvm) {
            jvm = true;
            JvmMetrics.builder().register(registry);
        }
    }

    /**
     * Registers {@code metric} (built, not registered elsewhere) and returns it.
     *
     * @throws IllegalArgumentException a metric of that name is registered already
     */
    public <M extends Collector> M register(M metric) {
        registry.register(new Guarded(metric, log));
        return metric;
    }

    /** One scrape in the text format 0.0.4. */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            write(out, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * The content type {@link #write} uses for a request's Accept header (null: none sent): OpenMetrics
     * text when the scraper asks for it (Prometheus does), else the 0.0.4 text format.
     */
    public String contentType(String accept) {
        return writer(accept).getContentType();
    }

    /** Writes one scrape in the format {@link #contentType} names for {@code accept}. */
    public void write(OutputStream out, String accept) throws IOException {
        writer(accept).write(out, registry.scrape(), EscapingScheme.fromAcceptHeader(accept));
    }

    private ExpositionFormatWriter writer(String accept) {
        return accept != null && openMetrics.accepts(accept) ? openMetrics : text;
    }

    private static String readVersion() {
        try (InputStream in = MetricRegistry.class.getResourceAsStream("build.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version", "");
                if (!v.isEmpty() && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through: a build without the resource still serves its metrics
        }
        return "unknown";
    }

    /** A metric whose failures leave it out of the scrape instead of failing the scrape. */
    private static final class Guarded implements Collector {
        private final Collector inner;
        private final Consumer<String> log;
        /** The failure last logged, null while collecting works: a broken callback logs once, not per scrape. */
        private final AtomicReference<String> lastFailure = new AtomicReference<>();

        Guarded(Collector inner, Consumer<String> log) {
            this.inner = Objects.requireNonNull(inner, "metric");
            this.log = log;
        }

        @Override
        public MetricSnapshot collect() {
            try {
                return ok(inner.collect());
            } catch (RuntimeException e) {
                return failed(e);
            }
        }

        @Override
        public MetricSnapshot collect(PrometheusScrapeRequest request) {
            try {
                return ok(inner.collect(request));
            } catch (RuntimeException e) {
                return failed(e);
            }
        }

        @Override
        public MetricSnapshot collect(Predicate<String> includedNames) {
            try {
                return ok(inner.collect(includedNames));
            } catch (RuntimeException e) {
                return failed(e);
            }
        }

        @Override
        public MetricSnapshot collect(Predicate<String> includedNames, PrometheusScrapeRequest request) {
            try {
                return ok(inner.collect(includedNames, request));
            } catch (RuntimeException e) {
                return failed(e);
            }
        }

        private MetricSnapshot ok(MetricSnapshot s) {
            lastFailure.set(null);
            return s;
        }

        /** Null: the registry leaves the metric out of this scrape. */
        private MetricSnapshot failed(RuntimeException e) {
            String why = String.valueOf(e).replace('\n', ' ').replace('\r', ' ');
            if (!why.equals(lastFailure.getAndSet(why))) {
                log.accept("metrics: collecting " + inner.getPrometheusName() + " failed, left out of /metrics: "
                    + why);
            }
            return null;
        }

        @Override
        public MetricFamilyDescriptor getMetricFamilyDescriptor() {
            return inner.getMetricFamilyDescriptor();
        }

        @Override
        public String getPrometheusName() {
            return inner.getPrometheusName();
        }

        @Override
        public MetricType getMetricType() {
            return inner.getMetricType();
        }

        @Override
        public java.util.Set<String> getLabelNames() {
            return inner.getLabelNames();
        }

        @Override
        public MetricMetadata getMetadata() {
            return inner.getMetadata();
        }
    }
}
