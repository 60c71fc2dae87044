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
            String msg = oneLine(e.getMessage());
            // jcommander reports an unknown flag as a "main parameter"; say it plainly.
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Was passed main parameter '([^']*)'").matcher(msg);
            if (m.find()) {
                msg = m.group(1).startsWith("-") ? "unknown option '" + m.group(1) + "'"
                    : "unexpected argument '" + m.group(1) + "'";
            }
            System.err.println(program + ": " + msg + " (see " + program + " --help)");
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
