package io.tailwire.server.status;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An independent reader of the Prometheus text format 0.0.4, strict enough to reject what
 * Prometheus would: used by tests to check what {@code /metrics} serves.
 */
public final class PromText {
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    public record Family(String name, String help, String type, List<Sample> samples) {
    }

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    /** Parses a whole scrape; throws IllegalArgumentException naming the line on any violation. */
    public static Map<String, Family> parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("scrape does not end with a line feed");
        }
        Map<String, Family> families = new LinkedHashMap<>();
        Map<String, String> help = new LinkedHashMap<>();
        Set<String> closed = new HashSet<>();
        String current = null;
        String[] lines = text.split("\n", -1);
        for (int n = 0; n < lines.length - 1; n++) {
            String line = lines[n];
            try {
                if (line.startsWith("# HELP ")) {
                    String rest = line.substring(7);
                    int sp = rest.indexOf(' ');
                    String name = sp < 0 ? rest : rest.substring(0, sp);
                    checkName(name);
                    if (help.put(name, unescapeHelp(sp < 0 ? "" : rest.substring(sp + 1))) != null) {
                        throw new IllegalArgumentException("second HELP for " + name);
                    }
                } else if (line.startsWith("# TYPE ")) {
                    String[] p = line.substring(7).split(" ", -1);
                    if (p.length != 2) {
                        throw new IllegalArgumentException("bad TYPE line");
                    }
                    checkName(p[0]);
                    if (!Set.of("counter", "gauge", "histogram", "summary", "untyped").contains(p[1])) {
                        throw new IllegalArgumentException("bad type " + p[1]);
                    }
                    if (families.containsKey(p[0])) {
                        throw new IllegalArgumentException("TYPE after samples or twice for " + p[0]);
                    }
                    if (current != null) {
                        closed.add(current);
                    }
                    current = p[0];
                    families.put(p[0], new Family(p[0], help.get(p[0]), p[1], new ArrayList<>()));
                } else if (line.startsWith("#")) {
                    continue; // plain comment
                } else if (line.isBlank()) {
                    continue;
                } else {
                    Sample s = sample(line);
                    Family f = families.get(familyOf(s.name(), families));
                    if (f == null) {
                        throw new IllegalArgumentException("sample without TYPE: " + s.name());
                    }
                    if (closed.contains(f.name()) || !f.name().equals(current)) {
                        throw new IllegalArgumentException("samples of " + s.name() + " not contiguous");
                    }
                    for (Sample o : f.samples()) {
                        if (o.name().equals(s.name()) && o.labels().equals(s.labels())) {
                            throw new IllegalArgumentException("duplicate sample " + s);
                        }
                    }
                    f.samples().add(s);
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("line " + (n + 1) + " '" + line + "': " + e.getMessage(), e);
            }
        }
        // HELP text for families must have been given before TYPE, as Metrics writes it
        for (Family f : families.values()) {
            if (f.help() == null) {
                throw new IllegalArgumentException("no HELP before TYPE for " + f.name());
            }
        }
        return families;
    }

    /**
     * The family a sample belongs to: its own name, or for a summary or histogram (the JVM metrics have
     * some) the name without the suffix of its parts.
     */
    private static String familyOf(String sample, Map<String, Family> families) {
        if (families.containsKey(sample)) {
            return sample;
        }
        for (String suffix : List.of("_count", "_sum", "_bucket")) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                Family f = families.get(base);
                if (f != null && (f.type().equals("summary") || f.type().equals("histogram"))) {
                    return base;
                }
            }
        }
        return sample;
    }

    private static void checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad metric name " + name);
        }
    }

    private static Sample sample(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        checkName(name);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (true) {
                if (line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int eq = line.indexOf('=', i);
                String ln = line.substring(i, eq);
                if (!LABEL.matcher(ln).matches()) {
                    throw new IllegalArgumentException("bad label name " + ln);
                }
                i = eq + 1;
                if (line.charAt(i) != '"') {
                    throw new IllegalArgumentException("label value not quoted");
                }
                i++;
                StringBuilder v = new StringBuilder();
                while (line.charAt(i) != '"') {
                    char c = line.charAt(i);
                    if (c == '\\') {
                        char e = line.charAt(i + 1);
                        switch (e) {
                            case '\\' -> v.append('\\');
                            case '"' -> v.append('"');
                            case 'n' -> v.append('\n');
                            default -> throw new IllegalArgumentException("bad escape \\" + e);
                        }
                        i += 2;
                    } else {
                        v.append(c);
                        i++;
                    }
                }
                i++;
                if (labels.put(ln, v.toString()) != null) {
                    throw new IllegalArgumentException("label twice " + ln);
                }
                if (line.charAt(i) == ',') {
                    i++;
                } else if (line.charAt(i) != '}') {
                    throw new IllegalArgumentException("expected , or }");
                }
            }
        }
        if (line.charAt(i) != ' ') {
            throw new IllegalArgumentException("expected a space before the value");
        }
        String[] rest = line.substring(i + 1).split(" ", -1);
        if (rest.length > 2) {
            throw new IllegalArgumentException("junk after value");
        }
        return new Sample(name, labels, value(rest[0]));
    }

    private static double value(String s) {
        return switch (s) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                if (!s.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")) {
                    throw new IllegalArgumentException("bad value " + s);
                }
                yield Double.parseDouble(s);
            }
        };
    }

    private static String unescapeHelp(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char e = s.charAt(++i);
                switch (e) {
                    case '\\' -> b.append('\\');
                    case 'n' -> b.append('\n');
                    default -> b.append('\\').append(e);
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private PromText() {
    }
}
