package dev.refreshguard.store;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.keycloak.common.util.SecretGenerator;

/**
 * Seals a successor refresh token for the grace window so that only the holder of its parent can open it:
 * the AES-256-GCM key is derived from the parent token itself, which is never stored.
 */
final class SuccessorSeal {

    private static final byte[] CONTEXT = "refresh-guard/successor/v1".getBytes(StandardCharsets.US_ASCII);
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;

    String seal(String successor, String parentToken) {
        try {
            // Keycloak's one shared SecureRandom: a ledger (and its seal) is made per request, a generator is not.
            byte[] iv = SecretGenerator.getInstance().randomBytes(IV_BYTES);
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, parentToken, iv);
            byte[] sealed = cipher.doFinal(successor.getBytes(StandardCharsets.US_ASCII));
            byte[] out = new byte[IV_BYTES + sealed.length];
            System.arraycopy(iv, 0, out, 0, IV_BYTES);
            System.arraycopy(sealed, 0, out, IV_BYTES, sealed.length);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /** The successor, or empty when {@code parentToken} is not the token it was sealed for. */
    Optional<String> open(String sealed, String parentToken) {
        if (sealed == null || parentToken == null) {
            return Optional.empty();
        }
        try {
            byte[] in = Base64.getUrlDecoder().decode(sealed);
            if (in.length <= IV_BYTES) {
                return Optional.empty();
            }
            byte[] iv = java.util.Arrays.copyOf(in, IV_BYTES);
            Cipher cipher = cipher(Cipher.DECRYPT_MODE, parentToken, iv);
            byte[] plain = cipher.doFinal(in, IV_BYTES, in.length - IV_BYTES);
            return Optional.of(new String(plain, StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static Cipher cipher(int mode, String parentToken, byte[] iv) throws GeneralSecurityException {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        sha256.update(CONTEXT);
        byte[] key = sha256.digest(parentToken.getBytes(StandardCharsets.US_ASCII));
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BITS, iv));
        return cipher;
    }
}
