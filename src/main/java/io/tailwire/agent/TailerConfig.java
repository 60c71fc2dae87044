package io.tailwire.agent;

import io.tailwire.config.Configuration;

import java.util.ArrayList;
import java.util.List;

/**
 * What to tail and how patiently. {@code sources} are absolute paths; one containing a glob
 * metacharacter ({@code * ? [ {}) is a pattern with {@link java.nio.file.PathMatcher} "glob:" semantics
 * ({@code **} crosses directories), the rest are explicit paths tracked even before they exist.
 */
public record TailerConfig(List<String> sources, long rotationGraceNanos, int maxRotatedHandles,
                           long discoveryIntervalNanos, int maxGlobDepth) {
    public TailerConfig {
        sources = List.copyOf(sources);
        if (rotationGraceNanos < 0 || maxRotatedHandles < 1 || discoveryIntervalNanos < 0 || maxGlobDepth < 1) {
            throw new IllegalArgumentException("bad tailer configuration");
        }
        for (String s : sources) {
            if (!s.startsWith("/")) {
                throw new IllegalArgumentException("source is not an absolute path: " + s);
            }
        }
    }

    public static TailerConfig of(List<String> sources) {
        return new TailerConfig(sources, Configuration.ROTATION_GRACE_NS, Configuration.MAX_ROTATED_HANDLES,
            Configuration.DISCOVERY_INTERVAL_NS, Configuration.MAX_GLOB_DEPTH);
    }

    public TailerConfig withRotationGraceNanos(long v) {
        return new TailerConfig(sources, v, maxRotatedHandles, discoveryIntervalNanos, maxGlobDepth);
    }

    public TailerConfig withMaxRotatedHandles(int v) {
        return new TailerConfig(sources, rotationGraceNanos, v, discoveryIntervalNanos, maxGlobDepth);
    }

    public TailerConfig withDiscoveryIntervalNanos(long v) {
        return new TailerConfig(sources, rotationGraceNanos, maxRotatedHandles, v, maxGlobDepth);
    }

    static boolean isGlob(String s) {
        return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0 || s.indexOf('{') >= 0;
    }

    List<String> explicitPaths() {
        List<String> out = new ArrayList<>();
        for (String s : sources) {
            if (!isGlob(s)) {
                out.add(s);
            }
        }
        return out;
    }

    List<String> globs() {
        List<String> out = new ArrayList<>();
        for (String s : sources) {
            if (isGlob(s)) {
                out.add(s);
            }
        }
        return out;
    }
}
