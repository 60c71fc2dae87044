package io.tailwire.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.tailwire.server.status.PromText;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * What we rely on Prometheus' client for, read back by our own strict reader (PromText): the cases the
 * hand-written writer's MetricsTest covered, where the client's behaviour differs the test says how and why.
 */
class MetricRegistryTest {
    private static void gauge(MetricRegistry m, String name, String... labels) {
        m.register(GaugeWithCallback.builder().name(name).help("h").labelNames(labels).callback(c -> { }).build());
    }

    private static void gauge(MetricRegistry m, String name, Consumer<GaugeWithCallback.Callback> cb,
                              String... labels) {
        m.register(GaugeWithCallback.builder().name(name).help("h").labelNames(labels).callback(cb).build());
    }

    @Test
    void countersAndGaugesAreWrittenWithHelpTypeAndCurrentValues() {
        MetricRegistry m = new MetricRegistry(s -> { });
        AtomicLong received = new AtomicLong(5);
        m.register(CounterWithCallback.builder().name("tailwire_bytes_received_total").help("Payload bytes received.")
            .callback(c -> c.call(received.get())).build());
        m.register(GaugeWithCallback.builder().name("tailwire_connections").help("Live connections.")
            .callback(c -> c.call(3)).build());
        received.addAndGet(10);
        Map<String, PromText.Family> f = PromText.parse(m.scrape());
        assertEquals(List.of("tailwire_bytes_received_total", "tailwire_connections"), List.copyOf(f.keySet()));
        assertEquals("counter", f.get("tailwire_bytes_received_total").type());
        assertEquals("Payload bytes received.", f.get("tailwire_bytes_received_total").help());
        assertEquals(15.0, f.get("tailwire_bytes_received_total").samples().get(0).value());
        assertEquals(Map.of(), f.get("tailwire_bytes_received_total").samples().get(0).labels());
        assertEquals("gauge", f.get("tailwire_connections").type());
        assertEquals(3.0, f.get("tailwire_connections").samples().get(0).value());
    }

    /** Help texts are our constants now (no caller passes peer text), so only label values are generated. */
    @Property(tries = 200)
    void labelValuesRoundTripThroughTheTextFormat(@ForAll("text") String agent, @ForAll("text") String path) {
        MetricRegistry m = new MetricRegistry(s -> { });
        gauge(m, "tailwire_stream_durable_bytes", out -> {
            out.call(7, agent, path);
            out.call(1.5, agent + "x", path);
        }, "agent", "path");
        PromText.Family f = PromText.parse(m.scrape()).get("tailwire_stream_durable_bytes");
        assertEquals(2, f.samples().size());
        Map<Map<String, String>, Double> got = Map.of(f.samples().get(0).labels(), f.samples().get(0).value(),
            f.samples().get(1).labels(), f.samples().get(1).value());
        assertEquals(Map.of(Map.of("agent", agent, "path", path), 7.0, Map.of("agent", agent + "x", "path", path), 1.5),
            got);
    }

    /**
     * Any text that has a UTF-8 encoding: the exposition is UTF-8, so a lone surrogate cannot be sent (it
     * became '?' over HTTP with the old writer too), and label values come from protobuf strings, which
     * are UTF-8 and cannot hold one.
     */
    @Provide
    Arbitrary<String> text() {
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(30)
                    .filter(s -> s.equals(new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))),
                Arbitraries.strings().withChars("\\\"\n\r{}=, #abc").ofMaxLength(20));
    }

    @Test
    void specialDoublesUseThePrometheusSpellings() {
        MetricRegistry m = new MetricRegistry(s -> { });
        gauge(m, "g", out -> {
            out.call(Double.POSITIVE_INFINITY, "a");
            out.call(Double.NEGATIVE_INFINITY, "b");
            out.call(Double.NaN, "c");
            out.call(1e300, "d");
            out.call(-0.25, "e");
            out.call(Long.MIN_VALUE, "f");
        }, "k");
        List<PromText.Sample> s = PromText.parse(m.scrape()).get("g").samples();
        assertEquals(Double.POSITIVE_INFINITY, s.get(0).value());
        assertEquals(Double.NEGATIVE_INFINITY, s.get(1).value());
        assertTrue(Double.isNaN(s.get(2).value()));
        assertEquals(1e300, s.get(3).value());
        assertEquals(-0.25, s.get(4).value());
        assertEquals((double) Long.MIN_VALUE, s.get(5).value());
    }

    @Test
    void repeatedRegistrationsAndReservedLabelNamesAreRefused() {
        MetricRegistry m = new MetricRegistry(s -> { });
        gauge(m, "ok_name");
        assertThrows(IllegalArgumentException.class, () -> gauge(m, "ok_name"));
        assertThrows(IllegalArgumentException.class, () -> gauge(m, "other", "__reserved"));
        assertThrows(IllegalArgumentException.class, () -> gauge(m, ""));
    }

    /**
     * MetricsTest's "left empty" is "left out" here: the client writes no HELP/TYPE for a family without
     * samples, and our guard returns no snapshot for one that fails, so the family is absent.
     */
    @Test
    void aFailingOrMalformedFamilyIsLeftOutLoggedOnceAndTheRestOfTheScrapeStillParses() {
        List<String> log = new ArrayList<>();
        MetricRegistry m = new MetricRegistry(log::add);
        gauge(m, "before", out -> out.call(1));
        gauge(m, "throws", out -> {
            throw new IllegalStateException("boom\nsecond line");
        });
        gauge(m, "duplicate", out -> {
            out.call(1, "v");
            out.call(2, "v");
        }, "k");
        gauge(m, "odd_labels", out -> out.call(1), "k");
        gauge(m, "after", out -> out.call(2));
        Map<String, PromText.Family> f = PromText.parse(m.scrape());
        assertEquals(1.0, f.get("before").samples().get(0).value());
        assertEquals(2.0, f.get("after").samples().get(0).value());
        for (String gone : List.of("throws", "duplicate", "odd_labels")) {
            assertFalse(f.containsKey(gone), gone);
        }
        m.scrape();
        assertEquals(3, log.size(), "one line per failing family, not one per scrape: " + log);
        assertTrue(log.stream().allMatch(l -> !l.contains("\n")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("collecting throws failed") && l.contains("boom second line")),
            log.toString());
    }

    @Test
    void buildInfoAndJvmMetricsAreServed() {
        MetricRegistry m = MetricRegistry.withBuildInfo(s -> { });
        m.registerJvmMetrics();
        m.registerJvmMetrics(); // a second start of the admin endpoint must not fail
        Map<String, PromText.Family> f = PromText.parse(m.scrape());
        PromText.Sample build = f.get("tailwire_build_info").samples().get(0);
        assertEquals(Map.of("version", MetricRegistry.VERSION), build.labels());
        assertTrue(MetricRegistry.VERSION.matches("\\d+\\.\\d+\\.\\d+.*"), "the pom's version, filtered in: "
            + MetricRegistry.VERSION);
        assertEquals(1.0, build.value());
        for (String jvm : List.of("jvm_memory_used_bytes", "jvm_threads_current", "process_cpu_seconds_total")) {
            assertTrue(f.containsKey(jvm) && !f.get(jvm).samples().isEmpty(), jvm + " in:\n" + f.keySet());
        }
    }

    @Test
    void openMetricsIsWrittenWhenTheScraperAsksForIt() throws Exception {
        MetricRegistry m = MetricRegistry.withBuildInfo(s -> { });
        String prometheus = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";
        assertTrue(m.contentType(prometheus).startsWith("application/openmetrics-text"), m.contentType(prometheus));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.write(out, prometheus);
        assertTrue(out.toString(StandardCharsets.UTF_8).endsWith("# EOF\n"));
        assertEquals(MetricRegistry.TEXT_CONTENT_TYPE, m.contentType(null));
        assertEquals(MetricRegistry.TEXT_CONTENT_TYPE, m.contentType("text/plain"));
        assertTrue(MetricRegistry.TEXT_CONTENT_TYPE.startsWith("text/plain; version=0.0.4"));
    }
}
