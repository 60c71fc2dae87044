package io.tailwire.tools;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Makes web-access-log-like lines with the sequence number in a fixed, parseable place:
 * {@code seq=000000123 [ts=<epoch nanos> ]<ip> - - [date] "GET /path HTTP/1.1" 200 1234 "-" "agent"}.
 * Every line is 100..300 bytes including its newline. The same seed gives the same lines; the date in
 * the line is synthetic (derived from the seed and sequence) so output stays reproducible. Only the
 * optional ts= field carries wall-clock time.
 */
public final class AccessLogLine {
    public static final int MIN_BYTES = 100;
    public static final int MAX_BYTES = 300;
    /** Width of the zero-padded number after "seq=". Larger numbers simply take more digits. */
    public static final int SEQ_DIGITS = 9;
    public static final String SEQ_PREFIX = "seq=";

    private static final String[] METHODS = {"GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "HEAD"};
    private static final String[] PATHS = {
        "/", "/index.html", "/api/v1/items", "/api/v1/items/", "/api/v1/users/", "/static/app.js",
        "/static/css/site.css", "/images/logo.png", "/login", "/logout", "/search", "/cart/add",
        "/checkout/confirm", "/health", "/metrics", "/docs/getting-started", "/blog/2026/11/release-notes"
    };
    private static final int[] STATUSES = {200, 200, 200, 200, 200, 200, 201, 204, 301, 302, 304, 400, 401, 403,
        404, 404, 500, 502, 503};
    private static final String[] AGENTS = {
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "curl/8.5.0",
        "Go-http-client/1.1",
        "python-requests/2.32.3",
        "kube-probe/1.31",
        "Googlebot/2.1 (+http://www.google.com/bot.html)"
    };
    private static final String[] MONTHS = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
        "Nov", "Dec"};
    private static final char[] QUERY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();

    private final long seed;
    private final StringBuilder sb = new StringBuilder(MAX_BYTES);

    public AccessLogLine(long seed) {
        this.seed = seed;
    }

    /**
     * The line for this sequence number, newline included, as ASCII bytes. Content depends only on
     * (seed, seq) and stampNanos, so lines are reproducible one by one, whatever order they are made in.
     *
     * @param stampNanos wall-clock epoch nanos to put in a ts= field, or negative for none
     */
    public byte[] make(long seq, long stampNanos) {
        // One generator per line, derived from (seed, seq): a line's content never depends on its neighbours.
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + seq);
        int target = MIN_BYTES + r.nextInt(MAX_BYTES - MIN_BYTES + 1);
        sb.setLength(0);
        sb.append(SEQ_PREFIX);
        String digits = Long.toString(seq);
        for (int i = digits.length(); i < SEQ_DIGITS; i++) {
            sb.append('0');
        }
        sb.append(digits).append(' ');
        if (stampNanos >= 0) {
            sb.append("ts=").append(stampNanos).append(' ');
        }
        sb.append(10 + r.nextInt(240)).append('.').append(r.nextInt(256)).append('.')
            .append(r.nextInt(256)).append('.').append(1 + r.nextInt(254));
        // Synthetic clock: 2026-11-01 plus about 10 ms per line, so dates look plausible and reproducible.
        long secs = seq / 100;
        int day = 1 + (int) ((secs / 86400) % 28);
        int h = (int) ((secs / 3600) % 24);
        int m = (int) ((secs / 60) % 60);
        int s = (int) (secs % 60);
        sb.append(" - - [");
        two(day).append('/').append(MONTHS[10]).append("/2026:");
        two(h).append(':');
        two(m).append(':');
        two(s).append(" +0000] \"");
        String path = PATHS[r.nextInt(PATHS.length)];
        sb.append(METHODS[r.nextInt(METHODS.length)]).append(' ').append(path);
        if (path.endsWith("/") && path.length() > 1) {
            sb.append(r.nextInt(100000));
        }
        int queryAt = sb.length();
        sb.append(" HTTP/1.1\" ").append(STATUSES[r.nextInt(STATUSES.length)]).append(' ')
            .append(r.nextInt(250000)).append(" \"-\" \"").append(AGENTS[r.nextInt(AGENTS.length)]).append('"');
        // Pad to the target length with a query string, as real URLs vary in length that way.
        int missing = target - 1 - sb.length();
        if (missing > 0) {
            // "?q=" is 3 bytes, so a 1- or 2-byte gap overshoots the target slightly (still within MAX_BYTES).
            StringBuilder q = new StringBuilder(Math.max(missing, 3));
            q.append("?q=");
            for (int i = 3; i < missing; i++) {
                q.append(QUERY_CHARS[r.nextInt(QUERY_CHARS.length)]);
            }
            sb.insert(queryAt, q);
        }
        sb.append('\n');
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private StringBuilder two(int v) {
        if (v < 10) {
            sb.append('0');
        }
        return sb.append(v);
    }
}
