package io.tailwire.config;

import static io.tailwire.io.Units.NANOS_PER_MILLI;
import static io.tailwire.io.Units.NANOS_PER_SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.ServerEndpointConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The defaults are defined once ({@link Configuration}); the library and the spec state the same values.
 * (The command lines are checked against the library in cli.CommandLineDefaultsTest.)
 */
class ConfigurationTest {
    @Test
    void theLibraryDefaultsAreTheShippedConfiguration() {
        AgentConnectionConfig a = AgentConnectionConfig.defaults("x");
        assertEquals(Configuration.AGENT_MAX_DATAGRAM_BYTES, a.maxDatagramSize());
        assertEquals(Configuration.SEND_BUFFER_BYTES, a.sendBufferBytes());
        assertEquals(Configuration.MIN_RTO_NS, a.minRtoNs());
        assertEquals(Configuration.IDLE_TIMEOUT_NS, a.idleTimeoutNs());
        ServerEndpointConfig s = ServerEndpointConfig.defaults();
        assertEquals(Configuration.MAX_CONNECTIONS, s.maxConnections());
        assertEquals(Configuration.CONNECTION_BUFFER_BYTES, s.connectionBudgetBytes());
        assertEquals(Configuration.IDLE_TIMEOUT_NS, s.idleTimeoutNs());
    }

    /** wire-spec.md section 8's table of values is normative: it must state what ships. */
    @Test
    void wireSpecSection8StatesTheShippedValues() throws IOException {
        String spec = Files.readString(Path.of("wire-spec.md"));
        Map<String, Long> expected = new LinkedHashMap<>();
        expected.put("initial RTT", Configuration.INITIAL_RTT_NS);
        expected.put("max_ack_delay", Configuration.MAX_ACK_DELAY_NS);
        expected.put("connect_timeout", Configuration.CONNECT_TIMEOUT_NS);
        expected.put("keepalive", Configuration.KEEPALIVE_INTERVAL_NS);
        expected.put("idle_timeout", Configuration.IDLE_TIMEOUT_NS);
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            assertEquals(e.getValue(), durationNs(row(spec, e.getKey())), "wire-spec.md 8, row " + e.getKey());
        }
        String[] rto = row(spec, "min RTO / max RTO").split("/");
        assertEquals(Configuration.MIN_RTO_NS, durationNs(rto[0]), "min RTO");
        assertEquals(Configuration.MAX_RTO_NS, durationNs(rto[1]), "max RTO");
        assertTrue(row(spec, "max_datagram_size").startsWith(Configuration.AGENT_MAX_DATAGRAM_BYTES + " default"));
        assertTrue(row(spec, "initial_window").startsWith(Configuration.INITIAL_WINDOW_BYTES / 1024 + " KiB"));
    }

    /** The Value cell of the table row whose Name cell is {@code name}. */
    private static String row(String spec, String name) {
        Matcher m = Pattern.compile("^\\| " + Pattern.quote(name) + " \\| ([^|]+) \\|", Pattern.MULTILINE)
            .matcher(spec);
        assertTrue(m.find(), "no row '" + name + "' in wire-spec.md");
        return m.group(1).trim();
    }

    private static long durationNs(String text) {
        Matcher m = Pattern.compile("(\\d+) (ms|s)\\b").matcher(text);
        assertTrue(m.find(), "no duration in '" + text + "'");
        long n = Long.parseLong(m.group(1));
        return m.group(2).equals("s") ? n * NANOS_PER_SECOND : n * NANOS_PER_MILLI;
    }
}
