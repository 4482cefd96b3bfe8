package dev.refreshguard.reuse;

/**
 * Who presented a reused token, as the token request shows it.
 *
 * @param clientId      the client as admins know it (its clientId)
 * @param ip            the request's address (with {@code --proxy-headers}, the client's)
 * @param userAgent     the User-Agent header; null when absent
 * @param keyThumbprint the thumbprint of the request's DPoP proof key; null without a proof
 * @param sessionId     the user session the presented token names; null when unknown
 */
public record Presenter(String clientId, String ip, String userAgent, String keyThumbprint, String sessionId) {
}
