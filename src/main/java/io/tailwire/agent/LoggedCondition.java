package io.tailwire.agent;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.function.Consumer;

/**
 * A condition that lasts across polls (a file that cannot be read, a server that does not answer): one
 * line when it starts, one when it ends with how many times it was seen and for how long, nothing in
 * between. A loop that polls every few milliseconds would otherwise write the same line ~100 times a
 * second. A change of description (another error on the same file) counts as a new condition.
 */
public final class LoggedCondition {
    private final String subject;
    private final Consumer<String> started;
    private final Consumer<String> ended;
    private String what;
    private long since;
    private long times;

    /**
     * @param subject what the condition is about, the start of every line ("/var/log/app.log"); null: none
     * @param started where the start line goes (usually a warning)
     * @param ended   where the end line goes (usually info)
     */
    public LoggedCondition(String subject, Consumer<String> started, Consumer<String> ended) {
        this.subject = subject;
        this.started = started;
        this.ended = ended;
    }

    /** The condition holds at {@code now}; logs only if it just started or its description changed. */
    public void on(String description, long now) {
        if (what != null && what.equals(description)) {
            times++;
            return;
        }
        if (what != null) {
            clear(now);
        }
        what = description;
        since = now;
        times = 1;
        started.accept(prefix() + description);
    }

    /** The condition does not hold at {@code now}; logs its end if it was on. */
    public void clear(long now) {
        if (what == null) {
            return;
        }
        ended.accept(prefix() + "OK again after " + String.format("%.1f", (now - since) / 1e9) + " s (seen "
            + times + (times == 1 ? " time" : " times") + "): " + what);
        what = null;
    }

    private String prefix() {
        return subject == null ? "" : subject + ": ";
    }

    public boolean active() {
        return what != null;
    }

    /** Times the current condition was seen (0 when off). */
    public long times() {
        return what == null ? 0 : times;
    }

    /** An I/O error in plain words for an operator ("permission denied"), not an exception's class name. */
    public static String describe(IOException e) {
        String detail;
        if (e instanceof AccessDeniedException) {
            detail = "permission denied";
        } else if (e instanceof NoSuchFileException) {
            detail = "no such file";
        } else if (e instanceof NotDirectoryException) {
            detail = "a parent is not a directory";
        } else if (e instanceof FileSystemLoopException) {
            detail = "symbolic link loop";
        } else {
            String m = e.getMessage();
            detail = "I/O error" + (m == null || m.isBlank() ? "" : ": " + m);
        }
        return detail;
    }
}
