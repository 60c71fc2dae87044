package io.tailwire.tools;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.ParameterException;

import java.io.PrintStream;

/** Shared flag handling for the bin/ tools: one place decides what --help and bad flags look like. */
public final class Cli {
    /** Exit status for wrong usage (bad flag, missing argument), distinct from a tool's own failure (1). */
    public static final int USAGE = 2;

    private Cli() {
    }

    /** Carries the exit code when parsing ends the run (help printed or bad flags). */
    public static final class Exit extends Exception {
        public final int code;

        Exit(int code) {
            super(null, null, false, false);
            this.code = code;
        }
    }

    /** Every tool's options class carries this flag. */
    public interface HasHelp {
        boolean help();
    }

    /**
     * Parses args into opts. Prints usage and throws Exit(0) on --help; prints one line naming the problem
     * and throws Exit(2) on a ParameterException.
     */
    public static void parse(String program, HasHelp opts, String[] args, PrintStream out, PrintStream err)
            throws Exit {
        JCommander jc = JCommander.newBuilder().programName(program).addObject(opts).build();
        try {
            jc.parse(args);
        } catch (ParameterException e) {
            err.println(program + ": " + e.getMessage() + " (see --help)");
            throw new Exit(USAGE);
        }
        if (opts.help()) {
            StringBuilder sb = new StringBuilder();
            jc.getUsageFormatter().usage(sb);
            out.print(sb);
            throw new Exit(0);
        }
    }

    /** For checks jcommander cannot express (mutually dependent flags): same one-line format, exit 2. */
    public static Exit usageError(String program, String message, PrintStream err) {
        err.println(program + ": " + message + " (see --help)");
        return new Exit(USAGE);
    }
}
