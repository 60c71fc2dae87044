package io.tailwire.server.status;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * A registry of metrics read on demand and written in the Prometheus text exposition format
 * (version 0.0.4). Nothing is stored here: each metric is a supplier (or, for labelled families, a
 * callback emitting samples) the server registers once, and every scrape reads them afresh.
 *
 * <p>Suppliers run on the admin HTTP thread, so they must read only thread-safe state (volatile
 * fields, atomics, published snapshots) and must not block. A supplier that throws loses only its
 * own family for that scrape; the failure shows as a comment line.
 */
public final class Metrics {
    /** Prometheus metric types this writer produces. */
    public enum Type {
        COUNTER("counter"), GAUGE("gauge");

        final String text;

        Type(String text) {
            this.text = text;
        }
    }

    /** Receives the samples of one labelled family during a scrape. */
    public interface Samples {
        /**
         * Adds one sample. {@code labels} are name/value pairs: {@code add(3, "agent", "a1")}.
         * Label values may hold any characters; they are escaped on output.
         */
        void add(long value, String... labels);

        void add(double value, String... labels);
    }

    /** Emits a family's samples on each scrape. */
    @FunctionalInterface
    public interface Family {
        void collect(Samples out);
    }

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    private record Registered(String name, String help, Type type, Family family) {
    }

    private final Map<String, Registered> families = new LinkedHashMap<>();

    /** A monotonically increasing count without labels (name by convention ends in {@code _total}). */
    public void counter(String name, String help, LongSupplier value) {
        register(name, help, Type.COUNTER, out -> out.add(value.getAsLong()));
    }

    /** A value that goes up and down, without labels. */
    public void gauge(String name, String help, LongSupplier value) {
        register(name, help, Type.GAUGE, out -> out.add(value.getAsLong()));
    }

    /** A labelled family of counters. */
    public void counterFamily(String name, String help, Family family) {
        register(name, help, Type.COUNTER, family);
    }

    /** A labelled family of gauges. */
    public void gaugeFamily(String name, String help, Family family) {
        register(name, help, Type.GAUGE, family);
    }

    /**
     * Registers a family. Names must be valid Prometheus metric names, distinct from each other.
     *
     * @throws IllegalArgumentException bad or repeated name
     */
    public synchronized void register(String name, String help, Type type, Family family) {
        if (name == null || !METRIC_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad metric name: " + name);
        }
        if (families.containsKey(name)) {
            throw new IllegalArgumentException("metric registered twice: " + name);
        }
        families.put(name, new Registered(name, help == null ? "" : help,
                java.util.Objects.requireNonNull(type), java.util.Objects.requireNonNull(family)));
    }

    /** Names registered so far, in order. */
    public synchronized List<String> names() {
        return new ArrayList<>(families.keySet());
    }

    /** One scrape, in the text exposition format. */
    public String scrape() {
        StringBuilder sb = new StringBuilder(4096);
        writeTo(sb);
        return sb.toString();
    }

    /** Appends one scrape to {@code sb}. */
    public synchronized void writeTo(StringBuilder sb) {
        StringBuilder body = new StringBuilder(256);
        for (Registered r : families.values()) {
            body.setLength(0);
            String error = null;
            try {
                r.family.collect(new Writer(r.name, body));
            } catch (RuntimeException e) {
                error = e.toString();
            }
            sb.append("# HELP ").append(r.name).append(' ');
            escapeHelp(r.help, sb);
            sb.append('\n');
            sb.append("# TYPE ").append(r.name).append(' ').append(r.type.text).append('\n');
            if (error == null) {
                sb.append(body);
            } else {
                // A plain comment (neither HELP nor TYPE) is ignored by parsers; the family is just empty.
                sb.append("# collecting ").append(r.name).append(" failed: ");
                escapeHelp(error, sb);
                sb.append('\n');
            }
        }
    }

    /** Writes samples of one family; checks labels so every scrape parses. */
    private static final class Writer implements Samples {
        private final String name;
        private final StringBuilder out;
        private final Set<String> seen = new HashSet<>();

        Writer(String name, StringBuilder out) {
            this.name = name;
            this.out = out;
        }

        @Override
        public void add(long value, String... labels) {
            line(labels).append(value).append('\n');
        }

        @Override
        public void add(double value, String... labels) {
            formatDouble(value, line(labels));
            out.append('\n');
        }

        private StringBuilder line(String[] labels) {
            if (labels.length % 2 != 0) {
                throw new IllegalArgumentException(name + ": labels must be name/value pairs");
            }
            int start = out.length();
            out.append(name);
            if (labels.length > 0) {
                Set<String> labelNames = new HashSet<>();
                out.append('{');
                for (int i = 0; i < labels.length; i += 2) {
                    String ln = labels[i];
                    if (ln == null || !LABEL_NAME.matcher(ln).matches() || ln.startsWith("__")) {
                        throw new IllegalArgumentException(name + ": bad label name: " + ln);
                    }
                    if (!labelNames.add(ln)) {
                        throw new IllegalArgumentException(name + ": label repeated: " + ln);
                    }
                    if (i > 0) {
                        out.append(',');
                    }
                    out.append(ln).append("=\"");
                    escapeLabelValue(labels[i + 1] == null ? "" : labels[i + 1], out);
                    out.append('"');
                }
                out.append('}');
            }
            // Two samples with the same labels would make the scrape invalid.
            if (!seen.add(out.substring(start))) {
                throw new IllegalArgumentException(name + ": duplicate sample " + out.substring(start));
            }
            return out.append(' ');
        }
    }

    /** Label values: backslash, double quote and line feed are escaped (text format 0.0.4). */
    static void escapeLabelValue(String v, StringBuilder out) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
    }

    /** HELP text: backslash and line feed are escaped. */
    static void escapeHelp(String v, StringBuilder out) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append(' '); // a bare CR could split the line for some readers
                default -> out.append(c);
            }
        }
    }

    static void formatDouble(double v, StringBuilder out) {
        if (Double.isNaN(v)) {
            out.append("NaN");
        } else if (Double.isInfinite(v)) {
            out.append(v > 0 ? "+Inf" : "-Inf");
        } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            out.append((long) v);
        } else {
            out.append(v);
        }
    }
}
