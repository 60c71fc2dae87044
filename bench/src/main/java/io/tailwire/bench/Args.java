package io.tailwire.bench;

import java.util.HashMap;
import java.util.Map;

/** Minimal --key value parsing for the baseline mains (kept free of the main jar, so baselines run alone). */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    Args(String[] args, String usage) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                System.out.println(usage);
                System.exit(0);
            }
            if (!args[i].startsWith("--") || i + 1 == args.length) {
                System.err.println("bad argument '" + args[i] + "' (usage: " + usage + ")");
                System.exit(2);
            }
            values.put(args[i].substring(2), args[++i]);
        }
    }

    String get(String key, String def) {
        return values.getOrDefault(key, def);
    }

    /** Sizes like 1472, 64k, 256m, 2g (powers of 1024). */
    long size(String key, String def) {
        String s = get(key, def).trim().toLowerCase();
        long mult = 1;
        char last = s.charAt(s.length() - 1);
        if (last == 'k' || last == 'm' || last == 'g') {
            mult = last == 'k' ? 1L << 10 : last == 'm' ? 1L << 20 : 1L << 30;
            s = s.substring(0, s.length() - 1);
        }
        return Long.parseLong(s) * mult;
    }
}
