package dev.refreshguard.alert;

import org.jboss.logging.Logger;
import org.keycloak.models.KeycloakSession;

/**
 * Email channel of reuse alerts. Sends only after the request's transaction committed, on another thread,
 * so a slow or dead SMTP server never delays or fails a token response.
 */
public final class AlertMail {

    private static final Logger LOG = Logger.getLogger(AlertMail.class);

    public void sendAfterCommit(KeycloakSession session, ReuseAlert alert) {
        // Delivered in a later change (issue: alerts for security teams).
        LOG.debugf("email alert for family %s not configured", alert.familyId());
    }
}
