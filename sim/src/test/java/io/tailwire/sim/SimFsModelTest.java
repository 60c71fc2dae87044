package io.tailwire.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tailwire.io.FileKey;
import io.tailwire.io.FsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Random operation sequences against a deliberately naive model of the documented rules: file content
 * is durable at force, names in a directory at forceDirectory, a crash reverts both. Seeds are printed
 * in every failure message.
 */
class SimFsModelTest {
    static final Path DIR = Path.of("/d");
    static final String[] NAMES = {"a", "b", "c", "d"};

    static final class ModelFile {
        byte[] current = new byte[0];
        byte[] durable = new byte[0];
    }

    @Test
    void randomOperationSequencesMatchTheNaiveDurabilityModel() throws IOException {
        for (long seed = 1; seed <= 100; seed++) {
            runOne(seed);
        }
    }

    private static void runOne(long seed) throws IOException {
        SimRandom r = new SimRandom(seed);
        SimFs fs = new SimFs(9);
        fs.createDirectories(DIR);
        Map<String, ModelFile> names = new HashMap<>();
        Map<String, ModelFile> durableNames = new HashMap<>();
        Map<ModelFile, FileKey> keys = new HashMap<>();
        List<String> log = new ArrayList<>();
        for (int step = 0; step < 200; step++) {
            String n = NAMES[r.nextInt(NAMES.length)];
            Path p = DIR.resolve(n);
            int op = r.nextInt(100);
            if (op < 35) {
                byte[] data = new byte[1 + r.nextInt(20)];
                r.nextBytes(data);
                log.add("append " + n + " " + data.length);
                fs.append(p, data);
                ModelFile f = names.computeIfAbsent(n, k -> new ModelFile());
                f.current = concat(f.current, data);
            } else if (op < 50) {
                log.add("force " + n);
                if (names.containsKey(n)) {
                    try (FsFile f = fs.openWrite(p)) {
                        f.force();
                    }
                    names.get(n).durable = names.get(n).current.clone();
                }
            } else if (op < 62) {
                log.add("forceDirectory");
                fs.forceDirectory(DIR);
                durableNames = new HashMap<>(names);
            } else if (op < 74) {
                String to = NAMES[r.nextInt(NAMES.length)];
                log.add("rename " + n + " " + to);
                if (names.containsKey(n)) {
                    fs.rename(p, DIR.resolve(to));
                    names.put(to, names.remove(n));
                }
            } else if (op < 84) {
                log.add("delete " + n);
                fs.delete(p);
                names.remove(n);
            } else if (op < 92) {
                int size = r.nextInt(10);
                log.add("truncate " + n + " " + size);
                if (names.containsKey(n)) {
                    fs.truncate(p, size);
                    ModelFile f = names.get(n);
                    f.current = Arrays.copyOf(f.current, Math.min(size, f.current.length));
                }
            } else {
                log.add("crash");
                fs.crash();
                names = new HashMap<>(durableNames);
                for (ModelFile f : names.values()) {
                    f.current = f.durable.clone();
                }
            }
            final long s = seed;
            Supplier<String> where = () -> "seed " + s + " after " + log;
            long used = 0;
            for (String name : NAMES) {
                ModelFile f = names.get(name);
                Path q = DIR.resolve(name);
                if (f == null) {
                    assertNull(fs.key(q), () -> where.get() + " name " + name);
                    continue;
                }
                assertArrayEquals(f.current, fs.readAll(q), () -> where.get() + " name " + name);
                FileKey k = keys.computeIfAbsent(f, x -> fs.key(q));
                assertEquals(k, fs.key(q), () -> where.get() + ": a file keeps its key across renames and crashes");
            }
            for (ModelFile f : new HashSet<>(names.values())) {
                used += f.current.length;
            }
            assertEquals(used, fs.usedBytes(), where);
            assertEquals(names.keySet().size(), fs.list(DIR).size(), where);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
