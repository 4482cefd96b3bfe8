package dev.refreshguard.harness;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A form POST sent from another loopback address (127.0.0.2, ...): the server sees another presenter IP, as if from
 * another network. Java's HTTP client cannot choose its local address, so this speaks HTTP/1.1 over a socket bound to it.
 */
public final class FromAddress {

    private FromAddress() {
    }

    public static Http.Reply postForm(String localAddress, String url, Map<String, String> form, Map<String, String> headers) {
        URI uri = URI.create(url);
        byte[] body = Http.form(form).getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
            // The server listens on every address; 127.0.0.1 keeps both ends IPv4, whatever "localhost" resolves to.
            socket.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), uri.getPort()), 10_000);
            socket.setSoTimeout(60_000);
            StringBuilder request = new StringBuilder()
                    .append("POST ").append(uri.getRawPath()).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n")
                    .append("Content-Type: application/x-www-form-urlencoded\r\n")
                    .append("Content-Length: ").append(body.length).append("\r\n")
                    .append("Connection: close\r\n");
            headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
            request.append("\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String response = all.toString(StandardCharsets.UTF_8);
            int status = Integer.parseInt(response.substring(9, 12));
            int start = response.indexOf('{');
            int end = response.lastIndexOf('}');
            String json = start >= 0 && end > start ? response.substring(start, end + 1) : "";
            JsonNode node = json.isEmpty() ? null : Http.JSON.readTree(json);
            return new Http.Reply(status, json, node, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
