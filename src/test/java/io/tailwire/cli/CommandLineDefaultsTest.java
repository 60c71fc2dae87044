package io.tailwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tailwire.agent.PollBackoff;
import io.tailwire.agent.TailerConfig;
import io.tailwire.config.Configuration;
import io.tailwire.engine.AgentConnectionConfig;
import io.tailwire.engine.ServerEndpointConfig;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * A command line without flags runs the library's defaults, which the simulators run too: the configuration
 * that is tested is the one that ships. (It was not: udp-agent sent 4 MiB buffers and polled at 200 µs..10 ms,
 * the library and simulator used 1 MiB and 1..250 ms; udp-server took 10,000 connections, the library 1024.)
 */
class CommandLineDefaultsTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @Test
    void udpAgentWithoutFlagsBuildsTheLibraryDefaults() throws Cli.Exit {
        AgentMain.Options o = AgentMain.parse(new String[] {"--file", "/var/log/a.log"}, QUIET, QUIET);
        assertEquals(AgentConnectionConfig.defaults("h"), AgentMain.connectionConfig(o, "h"));
        List<String> sources = List.of("/var/log/a.log");
        assertEquals(TailerConfig.of(sources), AgentMain.tailerConfig(o, sources));
        PollBackoff poll = AgentMain.pollBackoff(o);
        PollBackoff library = new PollBackoff();
        assertEquals(library.minNanos(), poll.minNanos());
        assertEquals(library.maxNanos(), poll.maxNanos());
        assertEquals(Configuration.SERVER_PORT, o.server.getPort());
        assertEquals(Configuration.SHUTDOWN_TIMEOUT_NS, o.shutdownTimeoutMs * 1_000_000L);
    }

    @Test
    void udpServerWithoutFlagsBuildsTheLibraryDefaults() throws Cli.Exit {
        ServerMain.Options o = ServerMain.parse(new String[0], QUIET, QUIET);
        assertEquals(ServerEndpointConfig.defaults(), ServerMain.endpointConfig(o));
        assertEquals(Configuration.SERVER_PORT, o.listen.getPort());
        assertEquals(Configuration.MEMORY_BUDGET_BYTES, o.memoryBudget);
        assertEquals(Configuration.MAX_CONNECTIONS_PER_ADDRESS, o.maxConnectionsPerAddress);
        assertEquals(Configuration.HANDSHAKES_PER_SECOND_PER_ADDRESS, o.handshakesPerSecond);
    }
}
