package io.tailwire.io;

/** Monotonic time in nanoseconds. The real one reads System.nanoTime(); the simulator's is virtual. */
@FunctionalInterface
public interface Clock {
    long nanoTime();

    Clock SYSTEM = System::nanoTime;
}
