package io.tailwire.io;

/** Device and inode of a file: what survives a rename and what a new file at the same path lacks. */
public record FileKey(long device, long inode) {
}
