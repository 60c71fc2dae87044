package io.tailwire.cli;

import com.beust.jcommander.JCommander;
import com.beust.jcommander.ParameterException;

/** Shared command-line handling: --help prints usage, a wrong flag prints one line and exits 2. */
public final class Cli {
    public static final int EXIT_USAGE = 2;

    private Cli() {
    }

    /** Exit status for wrong usage (bad flag, missing argument), distinct from a program's own failure (1). */
    public static final int USAGE = EXIT_USAGE;

    /** Carries the exit code when parsing ends the run (help printed or bad flags). */
    public static final class Exit extends Exception {
        public final int code;

        Exit(int code) {
            super(null, null, false, false);
            this.code = code;
        }
    }

    /** Every command takes it (handled here, before the command's own flags are parsed). */
    public static final String VERSION_FLAG = "--version";

    /** The build's version, from the Maven descriptor packaged in the jar. */
    public static String version() {
        try (java.io.InputStream in = Cli.class.getResourceAsStream(
            "/META-INF/maven/io.tailwire/tailwire/pom.properties")) {
            if (in != null) {
                java.util.Properties p = new java.util.Properties();
                p.load(in);
                return p.getProperty("version", "unknown");
            }
        } catch (java.io.IOException e) {
            // fall through: a version we cannot read is reported as unknown, not as a failure
        }
        return "unknown (not run from the built jar)";
    }

    /** Bad value of a flag: one line naming the flag and its rule (see {@link #usageError}), exit 2. */
    public static void require(boolean ok, String program, String message, java.io.PrintStream err) throws Exit {
        if (!ok) {
            throw usageError(program, message, err);
        }
    }

    /** Options classes of the tools carry their --help flag behind this. */
    public interface HasHelp {
        boolean help();
    }

    /**
     * Parses args into opts. Prints usage to {@code out} and throws Exit(0) on --help; prints one line naming
     * the problem to {@code err} and throws Exit(2) on a bad flag or value.
     */
    public static void parse(String program, Object opts, String[] args, java.util.function.BooleanSupplier help,
                             java.io.PrintStream out, java.io.PrintStream err) throws Exit {
        for (String a : args) {
            if (a.equals(VERSION_FLAG)) {
                out.println(program + " " + version());
                throw new Exit(0);
            }
        }
        JCommander jc = JCommander.newBuilder().programName(program).addObject(opts).build();
        try {
            jc.parse(args);
        } catch (ParameterException e) {
            String msg = oneLine(e.getMessage());
            // jcommander reports an unknown flag as a "main parameter"; say it plainly.
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Was passed main parameter '([^']*)'").matcher(msg);
            if (m.find()) {
                msg = m.group(1).startsWith("-") ? "unknown option '" + m.group(1) + "'"
                    : "unexpected argument '" + m.group(1) + "'";
            }
            throw usageError(program, msg, err);
        }
        if (help.getAsBoolean()) {
            StringBuilder sb = new StringBuilder();
            jc.getUsageFormatter().usage(sb);
            out.print(sb);
            out.println("    " + VERSION_FLAG + "\n      Print the version and exit");
            throw new Exit(0);
        }
    }

    public static void parse(String program, HasHelp opts, String[] args, java.io.PrintStream out,
                             java.io.PrintStream err) throws Exit {
        parse(program, opts, args, opts::help, out, err);
    }

    /** For the commands: parses, and on --help or a bad flag prints and exits the JVM. */
    public static void parse(String program, Object options, String[] args, java.util.function.BooleanSupplier help) {
        try {
            parse(program, options, args, help, System.out, System.err);
        } catch (Exit e) {
            System.exit(e.code);
        }
    }

    /** For checks jcommander cannot express (mutually dependent flags): same one-line format, exit 2. */
    public static Exit usageError(String program, String message, java.io.PrintStream err) {
        err.println(program + ": " + oneLine(message) + " (see " + program + " --help)");
        return new Exit(USAGE);
    }

    /** Ends the program with one plain line: what happened and what to do. */
    public static void fail(String program, String message, int code) {
        System.err.println(program + ": " + oneLine(message));
        System.exit(code);
    }

    /** An I/O error in words a person can act on (the JDK often gives only the path). */
    public static String explain(java.io.IOException e) {
        String reason = e instanceof java.nio.file.FileSystemException fse ? fse.getReason() : null;
        if (reason == null) {
            if (e instanceof java.nio.file.AccessDeniedException) {
                reason = "permission denied";
            } else if (e instanceof java.nio.file.NoSuchFileException) {
                reason = "no such file or directory";
            } else if (e instanceof java.nio.file.NotDirectoryException) {
                reason = "not a directory";
            } else if (e instanceof java.nio.file.FileAlreadyExistsException) {
                reason = "a file of that name is in the way";
            } else if (e instanceof java.nio.file.FileSystemException) {
                reason = "file system error";
            } else {
                reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            }
        }
        return oneLine(reason);
    }

    static String oneLine(String s) {
        if (s == null) {
            return "error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
