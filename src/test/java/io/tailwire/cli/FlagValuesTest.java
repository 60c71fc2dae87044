package io.tailwire.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.beust.jcommander.Parameter;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every flag of udp-server and udp-agent: each bad value ends in one line on stderr that names the flag,
 * exit 2, no stack trace; good values (sizes with suffixes, the documented "off" values) are taken.
 */
class FlagValuesTest {
    /** A flag, a bad value of it, and a good one; the agent's cases get a --glob so only the flag is wrong. */
    private record Case(String program, String flag, String bad, String good) {
        @Override
        public String toString() {
            return program + " " + flag + " " + bad;
        }
    }

    private static final List<Case> CASES = List.of(
        new Case("udp-server", "--listen", "127.0.0.1:99999", "127.0.0.1:0"),
        new Case("udp-server", "--out", " ", "received"),
        new Case("udp-server", "--max-connections", "0", "1"),
        new Case("udp-server", "--max-connections", "many", "10"),
        new Case("udp-server", "--connection-buffer", "-1", "4MiB"),
        new Case("udp-server", "--connection-buffer", "1000", "512k"),
        new Case("udp-server", "--connection-buffer", "4X", "1G"),
        new Case("udp-server", "--max-datagram", "1199", "1200"),
        new Case("udp-server", "--max-datagram", "65508", "65507"),
        new Case("udp-server", "--max-streams", "0", "1"),
        new Case("udp-server", "--max-connections-per-address", "0", "1"),
        new Case("udp-server", "--handshakes-per-second", "0", "1"),
        new Case("udp-server", "--memory-budget", "-5", "256M"),
        new Case("udp-server", "--memory-budget", "99999999999G", "1g"),
        new Case("udp-server", "--admin", "nohost", "127.0.0.1:0"),
        new Case("udp-server", "--throttle", "-2", "-1"),
        new Case("udp-server", "--throttle", "9G", "0"),
        new Case("udp-server", "--agent-linger-s", "-1", "0"),
        new Case("udp-server", "--debug", "yes", null),
        new Case("udp-server", "--bogus", "1", null),
        new Case("udp-agent", "--server", "127.0.0.1:0", "127.0.0.1:7070"),
        new Case("udp-agent", "--id", "a/b", "web-1"),
        new Case("udp-agent", "--state", "", "st"),
        new Case("udp-agent", "--file", null, "/var/log/x.log"),
        new Case("udp-agent", "--glob", null, "/var/log/*.log"),
        new Case("udp-agent", "--max-datagram", "0", "9000"),
        new Case("udp-agent", "--send-buffer", "-5", "64KiB"),
        new Case("udp-agent", "--send-buffer", "1k", "2k"),
        new Case("udp-agent", "--rotate-grace-ms", "-1", "0"),
        new Case("udp-agent", "--max-rotated-handles", "0", "1"),
        new Case("udp-agent", "--poll-min-us", "0", "1"),
        new Case("udp-agent", "--poll-max-ms", "0", "1"),
        new Case("udp-agent", "--poll-max-ms", "99999999999999999", "60000"),
        new Case("udp-agent", "--shutdown-timeout-ms", "-1", "0"),
        new Case("udp-agent", "--status-interval", "-1", "0"),
        new Case("udp-agent", "--status-interval", "x", "10"),
        new Case("udp-agent", "--admin", "nohost", "127.0.0.1:0"),
        // The agent has no --debug (nothing in it logs at debug level): refused like any unknown flag.
        new Case("udp-agent", "--bogus", "1", null));

    private record Result(int code, String out, String err) {
    }

    private static Result run(String program, List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = 0;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            String[] a = args.toArray(new String[0]);
            if (program.equals("udp-server")) {
                ServerMain.parse(a, o, e);
            } else {
                AgentMain.parse(a, o, e);
            }
        } catch (Cli.Exit x) {
            code = x.code;
        } catch (RuntimeException x) {
            code = -1; // what used to escape as a stack trace
            err.writeBytes(x.toString().getBytes(StandardCharsets.UTF_8));
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static List<String> args(Case c, String value) {
        List<String> a = new ArrayList<>();
        if (c.program().equals("udp-agent") && !c.flag().equals("--file") && !c.flag().equals("--glob")) {
            a.addAll(List.of("--glob", "/var/log/*.log"));
        }
        if (!c.flag().equals("--file") && !c.flag().equals("--glob") || value != null) {
            a.add(c.flag());
            // A boolean flag takes no value: "yes" after it is a stray argument, which must be refused too.
            if (value != null) {
                a.add(value);
            }
        }
        return a;
    }

    static Stream<Arguments> badValues() {
        return CASES.stream().filter(c -> c.bad() != null).map(Arguments::of);
    }

    static Stream<Arguments> goodValues() {
        return CASES.stream().filter(c -> c.good() != null).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void aBadValueIsOneLineNamingTheFlagAndExitsTwo(Case c) {
        Result r = run(c.program(), args(c, c.bad()));
        assertEquals(Cli.EXIT_USAGE, r.code(), "exit code for " + c + "; stderr: " + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line, got: " + err);
        assertTrue(err.startsWith(c.program() + ": "), err);
        String named = c.flag().equals("--debug") ? c.bad() : c.flag();
        assertTrue(err.contains(named), "the line names " + named + ": " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
    }

    @ParameterizedTest(name = "{0}: a good value")
    @MethodSource("goodValues")
    void aGoodValueIsAccepted(Case c) {
        Result r = run(c.program(), args(c, c.good()));
        assertEquals(0, r.code(), c.flag() + " " + c.good() + " refused: " + r.err());
        assertEquals("", r.err());
    }

    @Test
    void theCasesCoverEveryFlagOfBothCommands() {
        Set<String> covered = new TreeSet<>();
        CASES.forEach(c -> covered.add(c.program() + " " + c.flag()));
        Set<String> flags = new TreeSet<>();
        for (Class<?> k : List.of(ServerMain.Options.class, AgentMain.Options.class)) {
            String program = k == ServerMain.Options.class ? "udp-server" : "udp-agent";
            for (var f : k.getDeclaredFields()) {
                Parameter p = f.getAnnotation(Parameter.class);
                if (p != null && !p.help()) {
                    flags.add(program + " " + p.names()[0]);
                }
            }
        }
        flags.removeAll(covered);
        assertEquals(Set.of(), flags, "flags without a bad-value case");
    }

    @Test
    void sizesTakeSuffixesThatArePowersOf1024() {
        assertEquals(512L << 10, ByteSize.parse("512k"));
        assertEquals(256L << 20, ByteSize.parse("256M"));
        assertEquals(4L << 20, ByteSize.parse("4MiB"));
        assertEquals(1L << 30, ByteSize.parse("1GB"));
        assertEquals(4096, ByteSize.parse("4096"));
        assertEquals(-1, ByteSize.parse("-1"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("4T"));
        assertThrows(IllegalArgumentException.class, () -> ByteSize.parse("9999999999999G"));
    }

    @Test
    void theHelpSaysWhatTheSuffixesMeanAndListsVersion() {
        for (String program : List.of("udp-server", "udp-agent")) {
            Result r = run(program, List.of("--help"));
            assertEquals(0, r.code());
            assertTrue(r.out().contains("powers of 1024"), r.out());
            assertTrue(r.out().contains("--version"), r.out());
        }
    }

    @Test
    void versionPrintsOneLineAndExitsZeroOnEveryCommand() {
        for (String program : List.of("udp-server", "udp-agent")) {
            Result r = run(program, Arrays.asList("--version"));
            assertEquals(0, r.code());
            assertTrue(r.out().startsWith(program + " "), r.out());
            assertEquals(1, r.out().strip().lines().count(), r.out());
        }
    }
}
