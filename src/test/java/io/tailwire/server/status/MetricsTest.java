package io.tailwire.server.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class MetricsTest {
    @Test
    void countersAndGaugesAreWrittenWithHelpTypeAndCurrentValues() {
        Metrics m = new Metrics();
        AtomicLong received = new AtomicLong(5);
        m.counter("tailwire_bytes_received_total", "Payload bytes received.", received::get);
        m.gauge("tailwire_connections", "Live connections.", () -> 3);
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

    @Property(tries = 200)
    void labelValuesAndHelpTextRoundTripThroughTheTextFormat(@ForAll("text") String agent, @ForAll("text") String path,
                                                            @ForAll("text") String help) {
        Metrics m = new Metrics();
        m.gaugeFamily("tailwire_stream_durable_bytes", help, out -> {
            out.add(7, "agent", agent, "path", path);
            out.add(1.5, "agent", agent + "x", "path", path);
        });
        PromText.Family f = PromText.parse(m.scrape()).get("tailwire_stream_durable_bytes");
        assertEquals(help.replace('\r', ' '), f.help());
        assertEquals(2, f.samples().size());
        assertEquals(Map.of("agent", agent, "path", path), f.samples().get(0).labels());
        assertEquals(7.0, f.samples().get(0).value());
        assertEquals(agent + "x", f.samples().get(1).labels().get("agent"));
        assertEquals(1.5, f.samples().get(1).value());
    }

    @Provide
    Arbitrary<String> text() {
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(30),
                Arbitraries.strings().withChars("\\\"\n\r{}=, #abc").ofMaxLength(20));
    }

    @Test
    void specialDoublesUseThePrometheusSpellings() {
        Metrics m = new Metrics();
        m.gaugeFamily("g", "", out -> {
            out.add(Double.POSITIVE_INFINITY, "k", "a");
            out.add(Double.NEGATIVE_INFINITY, "k", "b");
            out.add(Double.NaN, "k", "c");
            out.add(1e300, "k", "d");
            out.add(-0.25, "k", "e");
            out.add(Long.MIN_VALUE, "k", "f");
        });
        List<PromText.Sample> s = PromText.parse(m.scrape()).get("g").samples();
        assertEquals(Double.POSITIVE_INFINITY, s.get(0).value());
        assertEquals(Double.NEGATIVE_INFINITY, s.get(1).value());
        assertTrue(Double.isNaN(s.get(2).value()));
        assertEquals(1e300, s.get(3).value());
        assertEquals(-0.25, s.get(4).value());
        assertEquals((double) Long.MIN_VALUE, s.get(5).value());
    }

    @Test
    void badNamesAndRepeatedRegistrationsAreRefused() {
        Metrics m = new Metrics();
        m.gauge("ok_name:x", "", () -> 0);
        for (String bad : new String[] {"", "1abc", "a-b", "a b", "a{}", "é"}) {
            assertThrows(IllegalArgumentException.class, () -> m.gauge(bad, "", () -> 0), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> m.counter("ok_name:x", "", () -> 0));
        assertEquals(List.of("ok_name:x"), m.names());
    }

    @Test
    void aFailingOrMalformedFamilyIsLeftEmptyAndTheRestOfTheScrapeStillParses() {
        Metrics m = new Metrics();
        m.gauge("before", "", () -> 1);
        m.gauge("throws", "", () -> {
            throw new IllegalStateException("boom\nsecond line");
        });
        m.gaugeFamily("bad_label", "", out -> {
            out.add(1, "ok", "v");
            out.add(2, "__reserved", "v");
        });
        m.gaugeFamily("odd_labels", "", out -> out.add(1, "k"));
        m.gaugeFamily("duplicate", "", out -> {
            out.add(1, "k", "v");
            out.add(2, "k", "v");
        });
        m.gaugeFamily("repeated_label", "", out -> out.add(1, "k", "a", "k", "b"));
        m.gauge("after", "", () -> 2);
        Map<String, PromText.Family> f = PromText.parse(m.scrape());
        assertEquals(1.0, f.get("before").samples().get(0).value());
        assertEquals(2.0, f.get("after").samples().get(0).value());
        for (String empty : List.of("throws", "bad_label", "odd_labels", "duplicate", "repeated_label")) {
            assertEquals(List.of(), f.get(empty).samples(), empty);
        }
    }
}
