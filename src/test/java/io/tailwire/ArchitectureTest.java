package io.tailwire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * Keeps the layering of README's Layout table: a package may use only packages of a strictly lower
 * layer (or itself), so arrows point down and packages cannot form cycles. Reads the sources (import
 * lines and fully qualified {@code io.tailwire.} names outside comments) rather than bytecode so that
 * the message can name the file.
 */
class ArchitectureTest {
    /**
     * The declared layer of every package, lowest first. Same layer means "may not use each other"
     * (agent and server are siblings). tools is a command-line layer of its own (its programs parse
     * flags with cli.Cli), so it sits above cli. The simulator drives the real code from above and
     * nothing in src/main may use it.
     */
    static final Map<String, Integer> LAYER = new LinkedHashMap<>();

    static {
        LAYER.put("proto", 0); // generated from src/main/proto
        LAYER.put("io", 0);
        LAYER.put("log", 0);
        LAYER.put("crypto", 0); // Noise handshake and AEAD over JDK primitives; uses nothing of ours
        LAYER.put("http", 0); // what the admin endpoints share; uses nothing of ours
        LAYER.put("fault", 0); // the one fault model (simulators, engine tests, udp-chaos); uses nothing of ours
        LAYER.put("wire", 1);
        LAYER.put("config", 2); // every default, named once (reads wire's ranges)
        LAYER.put("engine", 3);
        LAYER.put("agent", 4);
        LAYER.put("server", 4);
        LAYER.put("server.limit", 4);
        LAYER.put("server.store", 4);
        LAYER.put("server.status", 5);
        LAYER.put("server.admin", 6);
        LAYER.put("run", 7);
        LAYER.put("cli", 8);
        LAYER.put("tools", 9);
        LAYER.put("launcher", 10); // java -jar tailwire.jar COMMAND: above every command it starts
        LAYER.put("sim", 10);
        LAYER.put("sim.engine", 11);
        LAYER.put("sim.system", 11);
        LAYER.put("sim.cli", 12);
    }

    static final List<Path> ROOTS = List.of(Path.of("src/main/java"), Path.of("sim/src/main/java"));

    private static final Pattern PACKAGE = Pattern.compile("^package io\\.tailwire\\.([a-z0-9.]+);", Pattern.MULTILINE);
    /** io.tailwire.a.b.Cls: the package is everything up to the first capitalised segment. */
    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.tailwire\\.((?:[a-z0-9]+\\.)*[a-z0-9]+)\\.(?:[A-Z]|\\*)");
    private static final Pattern COMMENTS = Pattern.compile("/\\*.*?\\*/|//[^\\n]*", Pattern.DOTALL);

    @Test
    void noPackageUsesAPackageOfItsOwnOrAHigherLayer() throws IOException {
        List<String> violations = new ArrayList<>();
        TreeSet<String> undeclared = new TreeSet<>();
        int files = 0;
        int edges = 0;
        for (Path root : ROOTS) {
            assertTrue(Files.isDirectory(root), root + " not found: run the tests from the repository root");
            List<Path> sources;
            try (Stream<Path> s = Files.walk(root)) {
                sources = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
            }
            for (Path file : sources) {
                files++;
                edges += check(file.toString(), Files.readString(file), violations, undeclared);
            }
        }
        // Guards against a scanner that silently matches nothing (and so passes).
        assertTrue(files > 50 && edges > 50, "found only " + files + " sources and " + edges + " uses under " + ROOTS);
        assertEquals(List.of(), List.copyOf(undeclared),
            "packages missing from ArchitectureTest.LAYER: declare their layer");
        assertTrue(violations.isEmpty(), "arrows that point up (or sideways):\n" + String.join("\n", violations));
    }

    @Test
    void theScannerSeesImportsAndQualifiedNamesButNotComments() {
        String source = String.join("\n",
            "package io.tailwire.run;",
            "import io.tailwire.engine.ServerEndpoint;",
            "import io.tailwire.cli.Cli;",
            "/** See {@link io.tailwire.sim.SimFs}. */",
            "class X { Object o = io.tailwire.tools.LogGen.class; // io.tailwire.sim.cli.SimMain",
            "}");
        List<String> violations = new ArrayList<>();
        TreeSet<String> undeclared = new TreeSet<>();
        int edges = check("X.java", source, violations, undeclared);
        assertEquals(3, edges, "engine, cli and tools; the two sim names are in comments");
        assertEquals(List.of(), List.copyOf(undeclared));
        assertEquals(List.of(
            "X.java: run (layer 7) uses cli (layer 8); a package may only use packages of a lower layer",
            "X.java: run (layer 7) uses tools (layer 9); a package may only use packages of a lower layer"),
            violations);
    }

    /** Adds what {@code text} (the source of {@code file}) breaks; returns how many packages it uses. */
    static int check(String file, String text, List<String> violations, TreeSet<String> undeclared) {
        Matcher pm = PACKAGE.matcher(text);
        if (!pm.find()) {
            return 0;
        }
        String from = pm.group(1);
        Integer fromLayer = LAYER.get(from);
        if (fromLayer == null) {
            undeclared.add(from + " (" + file + ")");
            return 0;
        }
        TreeSet<String> used = new TreeSet<>();
        Matcher rm = REFERENCE.matcher(COMMENTS.matcher(text).replaceAll(" "));
        while (rm.find()) {
            used.add(rm.group(1));
        }
        used.remove(from);
        for (String to : used) {
            Integer toLayer = LAYER.get(to);
            if (toLayer == null) {
                undeclared.add(to + " (used by " + file + ")");
            } else if (toLayer >= fromLayer) {
                violations.add(file + ": " + from + " (layer " + fromLayer + ") uses " + to + " (layer " + toLayer
                    + "); a package may only use packages of a lower layer");
            }
        }
        return used.size();
    }
}
