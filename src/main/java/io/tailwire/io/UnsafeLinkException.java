package io.tailwire.io;

import java.io.IOException;

/** A name is a symbolic link, or a file with other hard links, where only a plain entry is acceptable. */
public final class UnsafeLinkException extends IOException {
    public UnsafeLinkException(String message) {
        super(message);
    }
}
