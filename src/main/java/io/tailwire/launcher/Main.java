package io.tailwire.launcher;

import io.tailwire.cli.AgentMain;
import io.tailwire.cli.Cli;
import io.tailwire.cli.ServerMain;
import io.tailwire.tools.ChaosProxy;
import io.tailwire.tools.LogCheck;
import io.tailwire.tools.LogGen;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code java -jar tailwire.jar COMMAND [FLAGS]}: the one entry point of the one artifact. Each command keeps
 * its own flag parser (so {@code tailwire agent --help} and {@code bin/udp-agent --help} are the same text);
 * this class only picks the command by its first word.
 */
public final class Main {
    static final String PROGRAM = "tailwire";

    /** A command: its name, one line of help, and its main. */
    record Command(String name, String summary, Consumer<String[]> main) {
    }

    static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        add(new Command("agent", "tail files and ship them to a server (bin/udp-agent)", AgentMain::main));
        add(new Command("server", "receive agents' files and keep exact copies (bin/udp-server)", ServerMain::main));
        add(new Command("version", "print the version", args -> System.out.println(PROGRAM + " " + Cli.version())));
        add(new Command("loggen", "write test log lines, with rotation (bin/loggen)", LogGen::main));
        add(new Command("logcheck", "compare a copy with its source lines (bin/logcheck)", LogCheck::main));
        add(new Command("chaos", "a UDP proxy that drops, delays, reorders (bin/udp-chaos)", ChaosProxy::main));
    }

    private static void add(Command c) {
        COMMANDS.put(c.name, c);
    }

    private Main() {
    }

    public static void main(String[] args) {
        Command c = select(args, System.out, System.err);
        if (c == null) {
            System.exit(args.length == 0 || !isHelp(args[0]) ? 2 : 0);
            return;
        }
        c.main.accept(Arrays.copyOfRange(args, 1, args.length));
    }

    /**
     * The command named by {@code args[0]}, or null after printing help (asked for: to {@code out}) or one line
     * saying what is wrong (no command, unknown command: to {@code err}). {@code --version} is the version command.
     */
    static Command select(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println(PROGRAM + ": give a command: " + String.join(", ", COMMANDS.keySet())
                + " (tailwire --help lists them)");
            return null;
        }
        if (isHelp(args[0])) {
            out.println(usage());
            return null;
        }
        String name = args[0].equals(Cli.VERSION_FLAG) ? "version" : args[0];
        Command c = COMMANDS.get(name);
        if (c == null) {
            err.println(PROGRAM + ": unknown command '" + args[0] + "'; the commands are "
                + String.join(", ", COMMANDS.keySet()));
        }
        return c;
    }

    private static boolean isHelp(String a) {
        return a.equals("--help") || a.equals("-h") || a.equals("help");
    }

    static String usage() {
        StringBuilder b = new StringBuilder("Usage: java -jar tailwire.jar COMMAND [FLAGS]   (COMMAND --help for its flags)\n"
            + "Commands:\n");
        for (Command c : COMMANDS.values()) {
            b.append(String.format("  %-9s %s%n", c.name, c.summary));
        }
        return b.toString().stripTrailing();
    }
}
