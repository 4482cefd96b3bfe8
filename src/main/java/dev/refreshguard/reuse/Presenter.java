package dev.refreshguard.reuse;

/**
 * Who presented a reused token, as the token request shows it.
 *
 * @param clientId  the client as admins know it (its clientId)
 * @param ip        the request's address (with {@code --proxy-headers}, the client's)
 * @param userAgent the User-Agent header; null when absent
 */
public record Presenter(String clientId, String ip, String userAgent) {
}
