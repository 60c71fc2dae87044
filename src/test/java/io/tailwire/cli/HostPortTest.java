package io.tailwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.beust.jcommander.ParameterException;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class HostPortTest {
    @Test
    void parsesIpv4AndBracketedIpv6() {
        InetSocketAddress a = HostPort.parse("127.0.0.1:7070");
        assertEquals(7070, a.getPort());
        assertEquals("127.0.0.1", a.getAddress().getHostAddress());
        InetSocketAddress b = HostPort.parse("[::1]:9");
        assertEquals(9, b.getPort());
        assertTrue(b.getAddress().isLoopbackAddress());
    }

    @Test
    void rejectsMissingPortBadPortAndPortOutOfRangeWithTheValueInTheMessage() {
        for (String bad : new String[] {"localhost", "localhost:", "h:abc", "127.0.0.1:70000", ":7070"}) {
            ParameterException e = assertThrows(ParameterException.class, () -> HostPort.parse(bad));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
    }
}
