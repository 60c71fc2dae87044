package io.tailwire.engine;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The type's state belongs to the one thread that drives its engine (a server's engine thread, or the
 * simulator's loop): no locks, no volatile, never handed to another thread. Members that other threads may
 * call say so in their own documentation.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface EngineThread {
}
