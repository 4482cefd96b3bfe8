package dev.refreshguard.family;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.jboss.logging.Logger;
import org.keycloak.common.util.Time;
import org.keycloak.executors.ExecutorsProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.services.scheduled.ClusterAwareScheduledTaskRunner;
import org.keycloak.timer.ScheduledTask;
import org.keycloak.timer.TimerProvider;

import dev.refreshguard.spi.PurgeSettings;
import dev.refreshguard.spi.RefreshGuard;

/**
 * The periodic purge. Every node's timer fires each interval (scheduled through Keycloak's cluster-aware runner, as
 * Keycloak schedules its own clean-up tasks); what keeps two nodes from purging at once is the claim in RG_SCHEDULE:
 * only the node that claims an interval does its pass. The pass runs on an executor of its own, outside the runner's
 * reach: a long pass (a backlog of millions of rows, paced) must not hold up the timer thread that Keycloak's own
 * clean-up tasks share. While it runs, it renews its claim, so no node starts another pass before it is over.
 */
final class FamilyPurgeTask implements ScheduledTask {

    static final String NAME = "refresh-guard-family-purge";
    private static final String CLAIM = "family-purge";
    private static final Logger LOG = Logger.getLogger(FamilyPurgeTask.class);

    private static final String EXECUTOR = "refresh-guard-purge";
    /** How long the server's shutdown waits for a running pass to finish its batch and say where it stopped. */
    private static final long SHUTDOWN_WAIT_SECONDS = 5;

    private final KeycloakSessionFactory factory;
    private final PurgeSettings settings;
    /** Released as the JVM begins to stop: a pass cut short by the server's own shutdown is not a failure to warn of. */
    private final CountDownLatch stopping = new CountDownLatch(1);
    /** Released when the running pass has ended (and logged); null between passes. */
    private final AtomicReference<CountDownLatch> runningPass = new AtomicReference<>();

    private FamilyPurgeTask(KeycloakSessionFactory factory, PurgeSettings settings) {
        this.factory = factory;
        this.settings = settings;
    }

    static void schedule(KeycloakSessionFactory factory) {
        PurgeSettings settings;
        try (KeycloakSession session = factory.create()) {
            settings = RefreshGuard.of(session).purgeSettings();
        }
        if (!settings.enabled()) {
            LOG.infof("refresh-guard family purge is off (%s=0)", PurgeSettings.INTERVAL);
            return;
        }
        long interval = settings.intervalSeconds() * 1000L;
        FamilyPurgeTask task = new FamilyPurgeTask(factory, settings);
        // Keycloak stops its caches before it closes provider factories, so a factory's close() comes too late to tell.
        Runtime.getRuntime().addShutdownHook(new Thread(task::stop, "refresh-guard-purge-stop"));
        try (KeycloakSession session = factory.create()) {
            session.getProvider(TimerProvider.class).schedule(new ClusterAwareScheduledTaskRunner(factory, task, interval), interval, NAME);
        }
    }

    /** The JVM is stopping: the running pass ends after its batch; the JVM waits (briefly) for it to log where. */
    private void stop() {
        stopping.countDown();
        CountDownLatch ended = runningPass.get();
        if (ended != null) {
            try {
                ended.await(SHUTDOWN_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String getTaskName() {
        return NAME;
    }

    @Override
    public void run(KeycloakSession session) {
        if (stopping.getCount() == 0) {
            return; // the server is stopping: no new pass
        }
        if (runningPass.get() != null) {
            LOG.debug("family purge: the previous pass on this node is still running");
            return;
        }
        long now = Time.currentTimeMillis();
        if (!KeycloakModelUtils.runJobInTransactionWithResult(factory,
                own -> RefreshGuard.of(own).store().schedule().claim(CLAIM, now, settings.intervalSeconds() * 1000L))) {
            LOG.debug("family purge of this interval ran on another node");
            return;
        }
        runningPass.set(new CountDownLatch(1));
        try {
            session.getProvider(ExecutorsProvider.class).getExecutor(EXECUTOR).execute(this::pass);
        } catch (RuntimeException e) {
            ended();
            throw e;
        }
    }

    private void pass() {
        try {
            logged(new FamilyPurge(factory, settings, this::renewClaim, stopping).run(Time.currentTime()));
        } catch (RuntimeException e) {
            if (stopping.getCount() == 0) {
                LOG.infof("refresh-guard family purge pass stopped by the server's shutdown; the next pass carries on (%s)", e);
            } else {
                LOG.warnf(e, "refresh-guard family purge pass failed; the next interval tries again");
            }
        } finally {
            ended();
        }
    }

    private void renewClaim() {
        long now = Time.currentTimeMillis();
        KeycloakModelUtils.runJobInTransaction(factory, own -> RefreshGuard.of(own).store().schedule().renew(CLAIM, now));
    }

    private void ended() {
        CountDownLatch ended = runningPass.getAndSet(null);
        if (ended != null) {
            ended.countDown();
        }
    }

    private static void logged(FamilyPurge.Pass pass) {
        if (pass.shutDown()) {
            LOG.infof("refresh-guard family purge pass stopped by the server's shutdown after %d deleted; the next pass carries on",
                    pass.deleted());
            return;
        }
        // One line per pass and node: operators (and the cluster test) see where and how often it ran.
        LOG.infof("refresh-guard family purge: %d deleted in %d ms, %d live checked, %d ended, %d grace successors cleared"
                        + " in %d ms; %d ms in all", pass.deleted(), pass.deleteMillis(), pass.liveChecked(), pass.ended(),
                pass.successorsCleared(), pass.walkMillis(), pass.millis());
    }
}
