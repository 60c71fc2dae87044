package io.tailwire.server.store;

import io.tailwire.wire.Wire;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Pure checks of agent ids and source paths (wire-spec.md 3 and 6.2), before any file is touched.
 * Symbolic-link containment needs the file system and lives in {@link PathContainment}. Stateless: any
 * thread.
 */
public final class OutputPaths {
    public static final int MAX_PATH_BYTES = 4096;
    public static final int MAX_SEGMENT_BYTES = 255;
    /** First segment reserved for the store's own metadata under OUT/agent_id. */
    public static final String META_DIR = ".tailwire";

    private OutputPaths() {
    }

    /** Null if the agent id is acceptable, else why not. */
    public static String checkAgentId(String agentId) {
        return Wire.isValidAgentId(agentId) ? null : "agent id must match " + Wire.AGENT_ID_RULE;
    }

    /** Null if the source path is acceptable as a name, else why not. */
    public static String checkSourcePath(String path) {
        if (path == null || path.isEmpty() || path.charAt(0) != '/') {
            return "path must be absolute";
        }
        if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
            return "path longer than " + MAX_PATH_BYTES + " bytes";
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                return "path contains a NUL or control character";
            }
            if (Character.isSurrogate(c)) {
                // Only a well-formed pair is a character; a lone half cannot be a file name.
                if (!Character.isHighSurrogate(c) || i + 1 >= path.length()
                    || !Character.isLowSurrogate(path.charAt(i + 1))) {
                    return "path is not valid Unicode";
                }
                i++;
            }
        }
        int from = 1;
        boolean first = true;
        while (true) {
            int slash = path.indexOf('/', from);
            String seg = slash < 0 ? path.substring(from) : path.substring(from, slash);
            if (seg.isEmpty()) {
                return "path has an empty segment";
            }
            if (seg.equals(".") || seg.equals("..")) {
                return "path has a '.' or '..' segment";
            }
            if (seg.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT_BYTES) {
                return "path segment longer than " + MAX_SEGMENT_BYTES + " bytes";
            }
            // Ignoring case also keeps case-insensitive file systems from mapping a path onto it.
            if (first && seg.equalsIgnoreCase(META_DIR)) {
                return "path must not start with /" + META_DIR + " (reserved for server metadata)";
            }
            first = false;
            if (slash < 0) {
                return null;
            }
            from = slash + 1;
        }
    }

    /** OUT/agent_id/segments...; only for names that passed both checks. */
    public static Path outputFile(Path agentDir, String path) {
        Path p = agentDir;
        int from = 1;
        while (true) {
            int slash = path.indexOf('/', from);
            p = p.resolve(slash < 0 ? path.substring(from) : path.substring(from, slash));
            if (slash < 0) {
                return p;
            }
            from = slash + 1;
        }
    }

    /** A name for a log line: quoted, control characters escaped, at most 200 characters. */
    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        int max = Math.min(s.length(), 200);
        for (int i = 0; i < max; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (s.length() > max) {
            sb.append("...");
        }
        return sb.append('"').toString();
    }
}
