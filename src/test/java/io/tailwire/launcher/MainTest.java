package io.tailwire.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The jar's entry point picks a command by its first word; anything else gets one line and no command. */
class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private Main.Command select(String... args) {
        return Main.select(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void eachCommandIsSelectedByItsNameAndVersionFlagIsTheVersionCommand() {
        for (String name : Main.COMMANDS.keySet()) {
            assertEquals(name, select(name, "--help").name());
        }
        assertEquals("version", select("--version").name());
        assertEquals("", out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anUnknownCommandIsOneLineNamingItAndTheCommands() {
        assertNull(select("sever", "--listen", "x"));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.contains("unknown command 'sever'") && e.contains("agent, server"), e);
    }

    @Test
    void noCommandIsOneLineAndHelpListsEveryCommandOnStdout() {
        assertNull(select());
        assertEquals(1, err.toString(StandardCharsets.UTF_8).lines().count());
        assertNull(select("--help"));
        String help = out.toString(StandardCharsets.UTF_8);
        for (String name : Main.COMMANDS.keySet()) {
            assertTrue(help.contains("  " + name + " "), help);
        }
    }
}
