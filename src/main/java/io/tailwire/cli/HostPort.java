package io.tailwire.cli;

import com.beust.jcommander.ParameterException;
import com.beust.jcommander.converters.BaseConverter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** HOST:PORT (or [v6]:PORT) to a resolved address, with an error that names what is wrong. */
public final class HostPort extends BaseConverter<InetSocketAddress> {
    /** jcommander passes the flag's name, so the error can say which flag is wrong. */
    public HostPort(String optionName) {
        super(optionName);
    }

    @Override
    public InetSocketAddress convert(String value) {
        try {
            return parse(value);
        } catch (ParameterException e) {
            throw new ParameterException(getOptionName() + ": " + e.getMessage());
        }
    }

    public static InetSocketAddress parse(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new ParameterException("'" + value + "' is not HOST:PORT (for example 127.0.0.1:7070)");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ParameterException("'" + value + "': port must be a number from 1 to 65535");
        }
        if (port < 0 || port > 65535) {
            throw new ParameterException("'" + value + "': port must be a number from 1 to 65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new ParameterException("cannot resolve host '" + host + "' in '" + value + "'");
        }
    }
}
