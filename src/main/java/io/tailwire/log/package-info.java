/**
 * Operator-facing log lines (stderr: time, level, component, message). Its own bottom layer so that
 * {@code run} (and anything else below {@code cli}) can log without importing the command-line layer.
 * The engine, agent core and server store do not log: they report through events and counters.
 */
package io.tailwire.log;
