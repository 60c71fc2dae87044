package io.tailwire.http;

/**
 * A minimal streaming JSON writer (RFC 8259) for the admin endpoints. It inserts the commas and
 * colons, and escapes strings so that any Java string - control characters, quotes, lone
 * surrogates - comes out as valid JSON and valid UTF-8.
 */
public final class Json {
    private static final int MAX_DEPTH = 64;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final StringBuilder sb;
    /** Per nesting level: whether a value has been written there yet (so a comma is due). */
    private final boolean[] hasValue = new boolean[MAX_DEPTH + 1];
    /** Per nesting level: true for an object, false for an array. */
    private final boolean[] isObject = new boolean[MAX_DEPTH + 1];
    private int depth;
    private boolean afterName;

    public Json() {
        this(new StringBuilder(256));
    }

    public Json(StringBuilder sb) {
        this.sb = sb;
    }

    public Json beginObject() {
        beforeValue();
        sb.append('{');
        push(true);
        return this;
    }

    public Json endObject() {
        pop(true);
        sb.append('}');
        return this;
    }

    public Json beginArray() {
        beforeValue();
        sb.append('[');
        push(false);
        return this;
    }

    public Json endArray() {
        pop(false);
        sb.append(']');
        return this;
    }

    /** The name of the next member of the current object. */
    public Json name(String name) {
        if (depth == 0 || !isObject[depth] || afterName) {
            throw new IllegalStateException("name outside an object");
        }
        if (hasValue[depth]) {
            sb.append(',');
        }
        hasValue[depth] = true;
        quote(name, sb);
        sb.append(':');
        afterName = true;
        return this;
    }

    /** A string, or null. */
    public Json value(String s) {
        beforeValue();
        if (s == null) {
            sb.append("null");
        } else {
            quote(s, sb);
        }
        return this;
    }

    public Json value(long v) {
        beforeValue();
        sb.append(v);
        return this;
    }

    public Json value(boolean v) {
        beforeValue();
        sb.append(v);
        return this;
    }

    public Json nullValue() {
        beforeValue();
        sb.append("null");
        return this;
    }

    /** Shorthands for one member. */
    public Json field(String name, String v) {
        return name(name).value(v);
    }

    public Json field(String name, long v) {
        return name(name).value(v);
    }

    public Json field(String name, boolean v) {
        return name(name).value(v);
    }

    /** The document; only once every object and array is closed. */
    @Override
    public String toString() {
        if (depth != 0) {
            throw new IllegalStateException("unclosed object or array");
        }
        return sb.toString();
    }

    private void beforeValue() {
        if (depth > 0) {
            if (isObject[depth]) {
                if (!afterName) {
                    throw new IllegalStateException("value in an object without a name");
                }
            } else {
                if (hasValue[depth]) {
                    sb.append(',');
                }
                hasValue[depth] = true;
            }
        } else if (hasValue[0]) {
            throw new IllegalStateException("more than one top-level value");
        } else {
            hasValue[0] = true;
        }
        afterName = false;
    }

    private void push(boolean object) {
        if (depth == MAX_DEPTH) {
            throw new IllegalStateException("nested too deeply");
        }
        depth++;
        isObject[depth] = object;
        hasValue[depth] = false;
    }

    private void pop(boolean object) {
        if (depth == 0 || isObject[depth] != object || afterName) {
            throw new IllegalStateException("mismatched end of " + (object ? "object" : "array"));
        }
        depth--;
    }

    /** Appends {@code s} as a JSON string literal. */
    public static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        // Controls are not allowed raw; DEL and the JS line separators are escaped for
                        // readers that choke on them.
                        unicodeEscape(c, out);
                    } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1))) {
                        out.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        // A lone surrogate cannot be encoded as UTF-8; the escape keeps the output valid.
                        unicodeEscape(c, out);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        quote(s, sb);
        return sb.toString();
    }

    private static void unicodeEscape(char c, StringBuilder out) {
        out.append("\\u").append(HEX[(c >> 12) & 15]).append(HEX[(c >> 8) & 15])
                .append(HEX[(c >> 4) & 15]).append(HEX[c & 15]);
    }
}
