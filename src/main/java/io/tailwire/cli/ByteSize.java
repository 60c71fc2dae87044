package io.tailwire.cli;

import com.beust.jcommander.ParameterException;
import com.beust.jcommander.converters.BaseConverter;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A byte count with an optional unit: {@code 4096}, {@code 512k}, {@code 256M}, {@code 4MiB}, {@code 1G}.
 * K, M and G (any case, with or without a trailing B) and KiB, MiB and GiB all mean powers of 1024, as
 * users of log shippers expect of buffer sizes (a "4M buffer" is 4,194,304 bytes). A leading minus is
 * kept, so a flag whose rule allows -1 (for example --throttle) can say so, and one that does not can
 * name its rule.
 */
public final class ByteSize extends BaseConverter<Long> {
    /** How --help words the accepted forms (one place, so every size flag says the same). */
    public static final String FORMS = "bytes, or with a suffix K, M, G (= KiB, MiB, GiB: powers of 1024), "
        + "e.g. 512k, 256M, 4MiB";

    private static final Pattern SIZE = Pattern.compile("(-?\\d+)\\s*(|k|kb|kib|m|mb|mib|g|gb|gib|b)");

    public ByteSize(String optionName) {
        super(optionName);
    }

    @Override
    public Long convert(String value) {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(getOptionName() + ": " + e.getMessage());
        }
    }

    /** Parses a size; IllegalArgumentException with a plain message if it is not one. */
    public static long parse(String value) {
        Matcher m = SIZE.matcher(value.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + value + "' is not a size (" + FORMS + ")");
        }
        int shift = switch (m.group(2)) {
            case "k", "kb", "kib" -> 10;
            case "m", "mb", "mib" -> 20;
            case "g", "gb", "gib" -> 30;
            default -> 0;
        };
        try {
            long n = Long.parseLong(m.group(1));
            if (Math.abs(n) > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is too large");
        }
    }
}
