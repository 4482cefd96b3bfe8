package dev.refreshguard.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.refreshguard.bench.Latencies.Stats;
import dev.refreshguard.harness.Await;
import dev.refreshguard.harness.DistributionServer;
import dev.refreshguard.harness.Http;
import dev.refreshguard.harness.TestRealm;

/**
 * Refresh-guard with a big family table, on a server of its own: RG_FAMILY seeded by SQL (PostgreSQL
 * generate_series) with rows spread over realms, users, states and ages, then, in the same run, refreshes and logins
 * against the empty and the big table, one purge pass over the eligible share of the seed with refreshes running
 * meanwhile, a user's families page for a user with many families, and the table's and indexes' sizes.
 * <p>
 * The purge task runs every 2 s on this server, but only when it can claim its interval in RG_SCHEDULE: the benchmark
 * holds the claim (LAST_RUN far in the future) while it measures, and releases it for exactly the measured pass.
 */
final class Scale {

    /** Everything the scale phase measured; {@code roundErrors}: refreshes that failed in any round, warm-ups included. */
    record Figures(long seededRows, long eligibleRows, int users, Stats refreshEmpty, Stats refreshBig, Stats loginEmpty,
                   Stats loginBig, Stats refreshQuiet, Stats refreshDuringPurge, long purgedRows, long purgeMillis,
                   long deleteMillis, int manyFamilies, Stats familiesFirstPage, Stats familiesLastPage,
                   Stats familiesStateFilter, long tableBytes, long indexBytes, Map<String, Long> indexes, long seedSeconds,
                   int roundErrors) {

        double purgeRowsPerSecond() {
            return deleteMillis == 0 ? 0 : purgedRows / (deleteMillis / 1000.0);
        }
    }

    private static final int INTERVAL = 2;
    private static final int RETENTION = 86_400;
    private static final int REVOKED_RETENTION = 3 * 86_400;
    private static final int BATCH = 1000;
    private static final String OPTION = "--spi-refresh-guard--refresh-guard--";
    private static final Pattern PASS = Pattern.compile("refresh-guard family purge: (\\d+) deleted in (\\d+) ms, \\d+ live"
            + " checked, \\d+ ended, \\d+ grace successors cleared in \\d+ ms; (\\d+) ms in all");
    private static final long HELD = 32_503_680_000_000L; // year 3000, epoch millis

    private final DistributionServer server;
    private final String jdbc;

    private Scale(DistributionServer server) {
        this.server = server;
        this.jdbc = server.jdbcUrl();
    }

    static Figures measure(BenchSettings settings) {
        DistributionServer server = DistributionServer.start("rg_bench_scale_" + System.currentTimeMillis(),
                List.of(OPTION + "purge-interval=" + INTERVAL, OPTION + "retention=" + RETENTION,
                        OPTION + "revoked-retention=" + REVOKED_RETENTION, OPTION + "purge-batch-size=" + BATCH),
                Map.of());
        try {
            return new Scale(server).run(settings);
        } finally {
            server.close();
        }
    }

    private Figures run(BenchSettings s) {
        // The first pass ran (or runs) on the empty table right after the start; from now on no pass runs unasked.
        Await.until(Duration.ofSeconds(60), "the first purge pass", () -> passes().size() >= 1);
        sql("UPDATE RG_SCHEDULE SET LAST_RUN = " + HELD);

        BenchRealms realms = BenchRealms.create(server, s.clients(), s.graceSeconds());
        TestRealm realm = realms.guarded();
        String realmId = realm.admin.ok("GET", "/" + realm.name, null).text("id");
        String clientUuid = realm.clientUuids.get(BenchRealms.CLIENT);
        String many = realm.addUser("bench-many");

        Stats refreshEmpty;
        Stats loginEmpty;
        Stats refreshBig;
        Stats loginBig;
        Stats refreshQuiet;
        Latencies during = new Latencies();
        try (RefreshRounds rounds = new RefreshRounds(server, "scale", realm.name, BenchRealms.CLIENT, realms.users())) {
            rounds.loginAll();
            // A fresh server: warm it up first, or the empty table pays for the JIT and looks slower than the big one.
            for (int i = 0; i < Math.max(3, s.warmup()); i++) {
                rounds.round(s.chain());
            }
            logins(realm, realms.users(), s.logins());
            refreshEmpty = refreshes(rounds, s);
            loginEmpty = logins(realm, realms.users(), s.logins());

            List<String> sessions = liveSessions(realmId, clientUuid);
            long seedStart = System.nanoTime();
            seed(s.scaleRows(), realmId, clientUuid, sessions);
            seedMany(s.manyFamilies(), realmId, clientUuid, many);
            sql("ANALYZE RG_FAMILY");
            long seedSeconds = (System.nanoTime() - seedStart) / 1_000_000_000L;

            refreshBig = refreshes(rounds, s);
            loginBig = logins(realm, realms.users(), s.logins());
            Stats[] pages = familyPages(realm, many, s.manyFamilies());
            long tableBytes = number("SELECT pg_relation_size('RG_FAMILY')");
            long indexBytes = number("SELECT pg_indexes_size('RG_FAMILY')");
            Map<String, Long> indexes = indexSizes();
            long eligible = number("SELECT COUNT(*) FROM RG_FAMILY WHERE (STATE = 'REVOKED' AND STOPPED_AT <= "
                    + (Instant.now().getEpochSecond() - REVOKED_RETENTION) + ") OR (STATE = 'ENDED' AND STOPPED_AT <= "
                    + (Instant.now().getEpochSecond() - RETENTION) + ")");
            long rows = number("SELECT COUNT(*) FROM RG_FAMILY");

            refreshQuiet = refreshes(rounds, s);
            // Release the claim: the next timer tick (≤ 2 s) runs one pass; refreshes run until its line is logged.
            int before = passes().size();
            sql("UPDATE RG_SCHEDULE SET LAST_RUN = 0");
            Instant deadline = Instant.now().plus(Duration.ofHours(2));
            while (passes().size() == before) {
                if (Instant.now().isAfter(deadline)) {
                    throw new IllegalStateException("no purge pass within 2 hours");
                }
                during.addAll(rounds.round(s.chain()));
            }
            sql("UPDATE RG_SCHEDULE SET LAST_RUN = " + HELD);
            Matcher pass = passes().get(before);
            return new Figures(rows, eligible, s.clients(), refreshEmpty, refreshBig, loginEmpty, loginBig, refreshQuiet,
                    during.stats(), Long.parseLong(pass.group(1)), Long.parseLong(pass.group(3)), Long.parseLong(pass.group(2)),
                    s.manyFamilies(), pages[0], pages[1], pages[2], tableBytes, indexBytes, indexes, seedSeconds, rounds.errors());
        }
    }

    private static Stats refreshes(RefreshRounds rounds, BenchSettings s) {
        rounds.round(s.chain()); // warm-up
        Latencies all = new Latencies();
        for (int i = 0; i < s.rounds(); i++) {
            all.addAll(rounds.round(s.chain()));
        }
        return all.stats();
    }

    /** Sequential password-grant logins: one INSERT into RG_FAMILY each. */
    private Stats logins(TestRealm realm, List<String> users, int count) {
        TokenClient client = new TokenClient(server, realm.name, BenchRealms.CLIENT);
        Latencies out = new Latencies();
        for (int i = -2; i < count; i++) {
            String user = users.get(Math.floorMod(i, users.size()));
            TokenClient.Answer answer = client.password(user, user);
            if (i < 0) {
                continue;
            }
            if (answer.status() == 200) {
                out.add(answer.nanos());
            } else {
                out.error();
            }
        }
        return out.stats();
    }

    /** The first page, the last page and a state-filtered page of the user with many families, 20 requests each. */
    private Stats[] familyPages(TestRealm realm, String userId, int families) {
        Http http = new Http();
        String base = server.baseUrl() + "/admin/realms/" + realm.name + "/refresh-guard/families?user_id=" + userId;
        List<String> queries = List.of("&max=100", "&first=" + Math.max(0, families - 100) + "&max=100", "&state=REVOKED&max=100");
        Stats[] out = new Stats[queries.size()];
        for (int q = 0; q < queries.size(); q++) {
            Latencies page = new Latencies();
            for (int i = -2; i < 20; i++) {
                long start = System.nanoTime();
                Http.Reply reply = http.get(base + queries.get(q), realm.admin.token());
                long nanos = System.nanoTime() - start;
                if (i < 0) {
                    continue;
                }
                if (reply.status() == 200 && reply.json().size() > 0) {
                    page.add(nanos);
                } else {
                    page.error();
                }
            }
            out[q] = page.stats();
        }
        return out;
    }

    /** The client sessions the benchmark's users hold: seeded live families belong to them, so the purge keeps them. */
    private List<String> liveSessions(String realmId, String clientUuid) {
        List<String> sessions = new ArrayList<>();
        query("SELECT DISTINCT SESSION_ID FROM RG_FAMILY WHERE REALM_ID = '" + realmId + "' AND CLIENT_ID = '" + clientUuid
                + "' AND STATE = 'ACTIVE' AND OFFLINE = FALSE", rs -> sessions.add(rs.getString(1)));
        if (sessions.isEmpty()) {
            throw new IllegalStateException("no live session to attach seeded families to");
        }
        return sessions;
    }

    /**
     * {@code total} rows in chunks of at most a million: per 100 rows, 20 live (the benchmark realm, attached to its
     * users' sessions, ages up to 30 days), 40 revoked and 25 ended within their retention (20 realms, 100,000 users),
     * 8 revoked and 7 ended past it — the 15 % one purge pass deletes.
     */
    private void seed(long total, String realmId, String clientUuid, List<String> sessions) {
        long now = Instant.now().getEpochSecond();
        String sessionArray = "ARRAY['" + String.join("','", sessions) + "']";
        long chunk = 1_000_000;
        for (long from = 1; from <= total; from += chunk) {
            long to = Math.min(total, from + chunk - 1);
            sql("INSERT INTO RG_FAMILY (ID, REALM_ID, CLIENT_ID, USER_ID, SESSION_ID, OFFLINE, PARENT_ID, GENERATION, CREATED_AT,"
                    + " ROTATED_AT, ROTATED_BY_IP, STATE, STOPPED_AT, REVOKED_REASON, SUCCESSOR, SUCCESSOR_EXP)"
                    + " SELECT md5('seed' || i), CASE WHEN i % 100 < 20 THEN '" + realmId + "' ELSE 'seed-realm-' || (i % 20) END,"
                    + " CASE WHEN i % 100 < 20 THEN '" + clientUuid + "' ELSE 'seed-client-' || (i % 50) END,"
                    + " 'seed-user-' || (i % 100000),"
                    + " CASE WHEN i % 100 < 20 THEN (" + sessionArray + ")[(1 + i % " + sessions.size() + ")::int] ELSE md5('session' || (i / 3)) END,"
                    + " CASE WHEN i % 100 < 20 THEN FALSE ELSE i % 10 = 0 END, '', i % 50,"
                    + " " + now + " - (i % 2592000), " + now + " - (i % 2592000) + (i % 3600),"
                    + " '10.' || (i % 250) || '.' || (i / 250 % 250) || '.7',"
                    + " CASE WHEN i % 100 < 20 THEN 'ACTIVE' WHEN i % 100 < 60 OR (i % 100 BETWEEN 85 AND 92) THEN 'REVOKED' ELSE 'ENDED' END,"
                    + " CASE WHEN i % 100 < 20 THEN 0"
                    + "   WHEN i % 100 < 60 THEN " + now + " - (i % " + (REVOKED_RETENTION - 3600) + ")"
                    + "   WHEN i % 100 < 85 THEN " + now + " - (i % " + (RETENTION - 3600) + ")"
                    + "   WHEN i % 100 < 93 THEN " + now + " - " + REVOKED_RETENTION + " - 60 - (i % 86400)"
                    + "   ELSE " + now + " - " + RETENTION + " - 60 - (i % 86400) END,"
                    + " CASE WHEN i % 100 < 20 THEN NULL WHEN i % 100 < 60 OR (i % 100 BETWEEN 85 AND 92) THEN 'reuse' ELSE NULL END,"
                    + " '', " + (now + 30L * 86_400)
                    + " FROM generate_series(" + from + ", " + to + ") AS i");
        }
    }

    /** One real user with many families of the benchmark realm, most revoked within the retention. */
    private void seedMany(int count, String realmId, String clientUuid, String userId) {
        long now = Instant.now().getEpochSecond();
        sql("INSERT INTO RG_FAMILY (ID, REALM_ID, CLIENT_ID, USER_ID, SESSION_ID, OFFLINE, PARENT_ID, GENERATION, CREATED_AT,"
                + " ROTATED_AT, ROTATED_BY_IP, STATE, STOPPED_AT, REVOKED_REASON, SUCCESSOR, SUCCESSOR_EXP)"
                + " SELECT md5('many' || i), '" + realmId + "', '" + clientUuid + "', '" + userId + "', md5('many-session' || i),"
                + " FALSE, '', i % 20, " + now + " - 100000 + i, " + now + " - 100000 + i, '10.9.9.9',"
                + " CASE WHEN i % 4 = 0 THEN 'ENDED' ELSE 'REVOKED' END, " + now + " - 60,"
                + " CASE WHEN i % 4 = 0 THEN NULL ELSE 'reuse' END, '', 0"
                + " FROM generate_series(1, " + count + ") AS i");
    }

    private Map<String, Long> indexSizes() {
        Map<String, Long> out = new LinkedHashMap<>();
        query("SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes WHERE lower(relname) = 'rg_family'"
                + " ORDER BY indexrelname", rs -> out.put(rs.getString(1), rs.getLong(2)));
        return out;
    }

    /** The purge pass lines of the server log, oldest first. */
    private List<Matcher> passes() {
        List<Matcher> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(server.logFile(), StandardCharsets.UTF_8)) {
                Matcher m = PASS.matcher(line);
                if (m.find()) {
                    out.add(m);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    private interface Row {
        void read(ResultSet rs) throws SQLException;
    }

    private void query(String sql, Row row) {
        try (Connection c = DriverManager.getConnection(jdbc, DistributionServer.Postgres.USER, "");
             PreparedStatement s = c.prepareStatement(sql); ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                row.read(rs);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    private long number(String sql) {
        long[] out = new long[1];
        query(sql, rs -> out[0] = rs.getLong(1));
        return out[0];
    }

    private void sql(String sql) {
        try (Connection c = DriverManager.getConnection(jdbc, DistributionServer.Postgres.USER, "");
             Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql.length() > 300 ? sql.substring(0, 300) + "..." : sql, e);
        }
    }

}
