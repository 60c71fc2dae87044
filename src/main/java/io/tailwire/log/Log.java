package io.tailwire.log;

import java.io.PrintStream;
import java.time.Instant;

/**
 * One line per event worth knowing, to stderr: time, level, component, message. No framework: the
 * programs log a handful of lines per minute, and operators grep them.
 */
public final class Log {
    private static volatile PrintStream out = System.err;
    private static volatile boolean debug = Boolean.getBoolean("tailwire.debug");

    private final String component;

    public Log(String component) {
        this.component = component;
    }

    public static void redirect(PrintStream stream) {
        out = stream;
    }

    public static void setDebug(boolean on) {
        debug = on;
    }

    public void info(String message) {
        write("INFO ", message);
    }

    public void warn(String message) {
        write("WARN ", message);
    }

    public void error(String message) {
        write("ERROR", message);
    }

    public void debug(String message) {
        if (debug) {
            write("DEBUG", message);
        }
    }

    public boolean debugEnabled() {
        return debug;
    }

    private void write(String level, String message) {
        PrintStream s = out;
        String line = Instant.now() + " " + level + " " + component + ": " + message;
        synchronized (s) {
            s.println(line);
        }
    }
}
