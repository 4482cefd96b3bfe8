package dev.refreshguard.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Who presented a token, as the ledger records it for the token that presentation rotated away: the address, a hash
 * of the User-Agent (the raw text is the presenter's and is never stored) and the thumbprint of the request's DPoP key.
 *
 * @param ip            the request's address; null when unknown
 * @param userAgentHash base64url SHA-256 of the User-Agent; null when the request had none
 * @param keyThumbprint RFC 7638 thumbprint of the DPoP proof's key; null when the request had no DPoP proof
 */
public record Presentation(String ip, String userAgentHash, String keyThumbprint) {

    /** The longest User-Agent hashed: a longer one is the same client fingerprint for our purpose. */
    private static final int MAX_USER_AGENT = 1024;
    private static final int MAX_THUMBPRINT = 128;

    public static Presentation of(String ip, String userAgent, String keyThumbprint) {
        return new Presentation(ip, hash(userAgent), keyThumbprint == null || keyThumbprint.length() > MAX_THUMBPRINT
                ? null : keyThumbprint);
    }

    /** Stored text: "" for absent (parameters are never bound as null), read back as null. */
    static Presentation stored(String ip, String userAgentHash, String keyThumbprint) {
        return new Presentation(blankToNull(ip), blankToNull(userAgentHash), blankToNull(keyThumbprint));
    }

    static String hash(String userAgent) {
        if (userAgent == null || userAgent.isEmpty()) {
            return null;
        }
        String cut = userAgent.length() > MAX_USER_AGENT ? userAgent.substring(0, MAX_USER_AGENT) : userAgent;
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cut.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String blankToNull(String value) {
        return value == null || value.isEmpty() ? null : value;
    }
}
