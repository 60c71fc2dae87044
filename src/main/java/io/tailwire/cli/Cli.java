package io.tailwire.cli;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.ParameterException;

/** Shared command-line handling: --help prints usage, a wrong flag prints one line and exits 2. */
public final class Cli {
    public static final int EXIT_USAGE = 2;

    private Cli() {
    }

    /** Parses args into the options object; returns false (after printing) if the program should exit. */
    public static boolean parse(String program, Object options, String[] args, java.util.function.BooleanSupplier help) {
        JCommander jc = JCommander.newBuilder().programName(program).addObject(options).build();
        try {
            jc.parse(args);
        } catch (ParameterException e) {
            System.err.println(program + ": " + oneLine(e.getMessage()) + " (see " + program + " --help)");
            System.exit(EXIT_USAGE);
            return false;
        }
        if (help.getAsBoolean()) {
            StringBuilder sb = new StringBuilder();
            jc.getUsageFormatter().usage(sb);
            System.out.print(sb);
            System.exit(0);
            return false;
        }
        return true;
    }

    /** Ends the program with one plain line: what happened and what to do. */
    public static void fail(String program, String message, int code) {
        System.err.println(program + ": " + oneLine(message));
        System.exit(code);
    }

    static String oneLine(String s) {
        if (s == null) {
            return "error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
