package dev.refreshguard.alert;

import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import org.jboss.logging.Logger;
import org.keycloak.email.EmailException;
import org.keycloak.email.EmailSenderProvider;
import org.keycloak.executors.ExecutorsProvider;
import org.keycloak.models.AbstractKeycloakTransaction;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.KeycloakModelUtils;

import dev.refreshguard.alert.AlertLetters.Audience;
import dev.refreshguard.alert.AlertLetters.Letter;
import dev.refreshguard.metrics.GuardMetrics;
import dev.refreshguard.policy.Policy;

/**
 * Email channel of reuse alerts. Sends only after the request's transaction committed, on a Keycloak executor
 * thread with sessions of its own, so a slow or dead SMTP server never delays or fails a token response.
 * Failures are logged at WARN; no letter and no log line carries a token.
 */
public final class AlertMail {

    /** Keycloak executor (spi-executors) the letters are sent on; its size is configurable like any other. */
    static final String EXECUTOR = "refresh-guard-alert-email";

    private static final Logger LOG = Logger.getLogger(AlertMail.class);

    /**
     * Alerts whose letters may wait to be sent at once; beyond it an alert's letters are dropped and counted
     * ({@code refresh_guard_alert_mail_dropped_total}), so a flood of alerts or a hanging SMTP server cannot pile up
     * memory or threads. Incidents already fold replays of one family into one alert.
     */
    static final int QUEUE_BOUND = 100;

    private final GuardMetrics metrics;
    private final AtomicInteger queued = new AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong lastDropWarning = new java.util.concurrent.atomic.AtomicLong();

    public AlertMail(GuardMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * Queues the alert's letters for after the commit of {@code session}'s transaction: to the user when the
     * policy says so and the user's email is verified, and to the realm's alert address.
     */
    public void sendAfterCommit(KeycloakSession session, ReuseAlert alert, Policy policy) {
        String teamAddress = policy.alertEmail();
        if (!policy.notifyUser() && teamAddress == null) {
            return;
        }
        RealmModel realm = session.getContext().getRealm();
        Delivery delivery = new Delivery(session.getKeycloakSessionFactory(), realm.getId(), alert, policy.notifyUser(),
                teamAddress, policy.notifyUser() ? baseUri(session) : null);
        ExecutorService executor = session.getProvider(ExecutorsProvider.class).getExecutor(EXECUTOR);
        session.getTransactionManager().enlistAfterCompletion(new AbstractKeycloakTransaction() {
            @Override
            protected void commitImpl() {
                if (queued.incrementAndGet() > QUEUE_BOUND) {
                    queued.decrementAndGet();
                    metrics.alertMailDropped(alert.realmName());
                    // At most one line a minute: the drops themselves must not flood the log.
                    long nowMillis = System.currentTimeMillis();
                    long last = lastDropWarning.get();
                    if (nowMillis - last >= 60_000 && lastDropWarning.compareAndSet(last, nowMillis)) {
                        LOG.warnf("refresh-guard: reuse alert email for family %s dropped: %d alerts wait for the mail server"
                                + " already (further drops within a minute only count in refresh_guard_alert_mail_dropped_total)",
                                alert.familyId(), QUEUE_BOUND);
                    }
                    return;
                }
                try {
                    executor.execute(() -> {
                        try {
                            delivery.run();
                        } finally {
                            queued.decrementAndGet();
                        }
                    });
                } catch (RejectedExecutionException e) {
                    queued.decrementAndGet();
                    LOG.warnf("refresh-guard: reuse alert email for family %s not sent: the server is shutting down",
                            alert.familyId());
                }
            }

            @Override
            protected void rollbackImpl() {
                // Nothing the request did was kept, so there is nothing to tell anyone by mail.
                LOG.debugf("refresh-guard: transaction rolled back, no reuse alert email for family %s", alert.familyId());
            }
        });
    }

    /** The letters of one alert: composed in one transaction, then each sent in a session of its own. */
    private record Delivery(KeycloakSessionFactory factory, String realmId, ReuseAlert alert, boolean notifyUser,
                            String teamAddress, URI baseUri) implements Runnable {

        @Override
        public void run() {
            try {
                Composed composed = KeycloakModelUtils.runJobInTransactionWithResult(factory, this::compose);
                for (Letter letter : composed.letters()) {
                    send(composed.smtp(), letter);
                }
            } catch (RuntimeException e) {
                warn("could not prepare the reuse alert email", null, e);
            }
        }

        /** Reads what the letters need and renders them; the SMTP conversation happens outside this transaction. */
        private Composed compose(KeycloakSession session) {
            RealmModel realm = session.realms().getRealm(realmId);
            if (realm == null) {
                return Composed.NONE;
            }
            session.getContext().setRealm(realm);
            Map<String, String> smtp = realm.getSmtpConfig();
            if (smtp == null || smtp.get("host") == null || smtp.get("host").isBlank()) {
                LOG.warnf("refresh-guard: realm '%s' has no SMTP server (Realm settings > Email), so the reuse alert"
                        + " email for family %s was not sent", realm.getName(), alert.familyId());
                return Composed.NONE;
            }
            UserModel user = session.users().getUserById(realm, alert.userId());
            List<Letter> letters = new ArrayList<>();
            if (notifyUser && user != null && user.isEmailVerified() && user.getEmail() != null && !user.getEmail().isBlank()) {
                render(session, realm, user, Audience.USER, user.getEmail(), wasntMeLink(session, realm, user), letters);
            }
            if (teamAddress != null) {
                render(session, realm, user, Audience.TEAM, teamAddress, null, letters);
            }
            return new Composed(new HashMap<>(smtp), letters);
        }

        /** The user's "This wasn't me" link; null (no link) when the alert was raised outside a request. */
        private String wasntMeLink(KeycloakSession session, RealmModel realm, UserModel user) {
            return baseUri == null ? null : WasntMeToken.link(session, realm, baseUri, user.getId(), alert.familyId(),
                    Policy.ofRealm(realm::getAttribute).wasntMeSeconds());
        }

        private void render(KeycloakSession session, RealmModel realm, UserModel user, Audience audience, String address,
                            String wasntMeLink, List<Letter> letters) {
            try {
                letters.add(AlertLetters.render(session, realm, alert, user, audience, address, wasntMeLink));
            } catch (Exception e) {
                warn("could not render the reuse alert email", audience, e);
            }
        }

        private void send(Map<String, String> smtp, Letter letter) {
            try {
                KeycloakModelUtils.runJobInTransaction(factory, session -> {
                    // The realm in context lets the SMTP authenticator resolve vault secrets of this realm.
                    session.getContext().setRealm(session.realms().getRealm(realmId));
                    try {
                        session.getProvider(EmailSenderProvider.class)
                                .send(smtp, letter.address(), letter.subject(), letter.text(), letter.html());
                    } catch (EmailException e) {
                        throw new NotSent(e);
                    }
                });
                LOG.debugf("refresh-guard: reuse alert email for family %s sent to the %s", alert.familyId(),
                        letter.audience().description());
            } catch (RuntimeException e) {
                warn("could not send the reuse alert email", letter.audience(), e instanceof NotSent ? e.getCause() : e);
            }
        }

        private void warn(String what, Audience audience, Throwable e) {
            LOG.warnf("refresh-guard: %s%s (realm '%s', client '%s', family %s): %s", what,
                    audience == null ? "" : " to the " + audience.description(), alert.realmName(), alert.clientId(),
                    alert.familyId(), causes(e));
        }
    }

    /** The server's front-end base URI as the request saw it; null outside a request (the durable redo). */
    private static URI baseUri(KeycloakSession session) {
        try {
            return session.getContext().getUri().getBaseUri();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** Carries the checked EmailException out of the session task. */
    private static final class NotSent extends RuntimeException {
        NotSent(EmailException cause) {
            super(cause);
        }
    }

    private record Composed(Map<String, String> smtp, List<Letter> letters) {
        static final Composed NONE = new Composed(Map.of(), List.of());
    }

    /** The chain of causes as one short line: the reason (refused, timed out) is usually at the bottom. */
    static String causes(Throwable e) {
        StringBuilder line = new StringBuilder();
        for (Throwable t = e; t != null && line.length() < 500; t = t.getCause() == t ? null : t.getCause()) {
            if (!line.isEmpty()) {
                line.append(" <- ");
            }
            line.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                line.append(": ").append(t.getMessage());
            }
        }
        return line.toString();
    }
}
