package dev.refreshguard.harness;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The database the integration tests run Keycloak on, chosen for the whole run by {@code -Dit.db=postgres|mariadb}
 * (default postgres). Every Keycloak the harness starts gets a fresh database of its own, dropped when it stops.
 * Tests reach that database through {@link #connect(String)} with the server's {@link KeycloakServer#jdbcUrl()},
 * which carries its credentials, so the same test code runs on either engine.
 */
public abstract class Database {

    public static final String PROPERTY = "it.db";
    /** How long a server the harness starts keeps a database connection (see {@link #keycloakOptions}). */
    public static final Duration POOL_CONNECTION_LIFETIME = Duration.ofSeconds(20);

    /** The database of this run; one instance per test JVM (the embedded PostgreSQL, if any, lives as long). */
    public static Database selected() {
        return Selected.DATABASE;
    }

    /** A connection to a server's database, e.g. {@code Database.connect(server.jdbcUrl())}. */
    public static Connection connect(String jdbcUrl) throws SQLException {
        return DriverManager.getConnection(jdbcUrl);
    }

    /** True on MariaDB/MySQL, where a test needs another form of a PostgreSQL-specific SQL trick. */
    public static boolean isMariaDb(String jdbcUrl) {
        return jdbcUrl != null && jdbcUrl.startsWith("jdbc:mariadb:");
    }

    /** Keycloak's {@code --db} value: postgres or mariadb. */
    public abstract String kind();

    /** The JDBC URL of one database, with user and password in it, for tests' own queries. */
    public abstract String jdbcUrl(String database);

    /** host:port of the database server, e.g. for a {@link FaultProxy} in front of it. */
    public abstract String address();

    /** Keycloak's {@code --db-url} for one database reached through {@code hostPort} (e.g. a {@link FaultProxy}). */
    public String keycloakUrlThrough(String database, String hostPort) {
        return keycloakUrl(database).replace("//" + address() + "/", "//" + hostPort + "/");
    }

    /** A JDBC URL of this database server (e.g. {@link KeycloakServer#jdbcUrl()}), reaching it through {@code hostPort}. */
    public String through(String jdbcUrl, String hostPort) {
        return jdbcUrl.replace("//" + address() + "/", "//" + hostPort + "/");
    }

    /**
     * Why this run cannot use the database here, in one line with the way to get it, when the database is absent
     * (nothing listens where it should): its tests are then skipped. Empty when it is there and lets us in.
     *
     * @throws IllegalStateException when something answers there but does not let the harness log in: a leg that is
     *                               expected here must fail, not turn into skips
     */
    public abstract Optional<String> unavailable();

    /** Keycloak's options for one database: {@code --db}, {@code --db-url}, credentials. */
    public List<String> keycloakOptions(String database) {
        List<String> options = new ArrayList<>(List.of("--db=" + kind(), "--db-url=" + keycloakUrl(database),
                "--db-username=" + user(),
                // A pool keeps every connection a 50-racer test opened (Keycloak's default pool has no idle limit),
                // and servers of one run share one database server (PostgreSQL allows 100 connections by default):
                // the next server's requests then failed with "too many clients", as 500s. Connections close after
                // this lifetime, so a server gives back what a race took within seconds.
                "--db-pool-max-lifetime=" + POOL_CONNECTION_LIFETIME.toSeconds() + "s"));
        if (!password().isEmpty()) {
            options.add("--db-password=" + password());
        }
        return options;
    }

    /**
     * How many more client connections the database server accepts now, and who holds the taken ones (for a
     * message): a test that is about to open many checks this first instead of meeting "too many clients" as 500s.
     */
    public abstract ConnectionRoom connectionRoom();

    /** {@code free} connections left; {@code holders}: connections per database, as the server reports them. */
    public record ConnectionRoom(int free, String holders) {
    }

    public void create(String database) {
        try (Connection c = DriverManager.getConnection(adminUrl()); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database);
            s.execute("CREATE DATABASE " + database);
        } catch (SQLException e) {
            throw new IllegalStateException(unavailable().orElse(this + " refused to create database " + database), e);
        }
    }

    /** Drops a test database once its server stopped, unless -Dit.keep.db=true keeps it for reading. */
    public void drop(String database) {
        if (Boolean.getBoolean("it.keep.db")) {
            return;
        }
        try (Connection c = DriverManager.getConnection(adminUrl()); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database);
        } catch (SQLException e) {
            System.err.println("could not drop test database " + database + ": " + e.getMessage());
        }
    }

    abstract String keycloakUrl(String database);

    abstract String adminUrl();

    abstract String user();

    abstract String password();

    /** Runs two one-value queries as the admin user: connections free, and who holds the others. */
    ConnectionRoom connectionRoom(String freeSql, String holdersSql) {
        try (Connection c = DriverManager.getConnection(adminUrl()); Statement s = c.createStatement()) {
            int free;
            try (var rs = s.executeQuery(freeSql)) {
                rs.next();
                free = rs.getInt(1);
            }
            try (var rs = s.executeQuery(holdersSql)) {
                rs.next();
                return new ConnectionRoom(free, rs.getString(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(unavailable().orElse(this + " did not say how many connections it has left"), e);
        }
    }

    static boolean answers(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 2000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static final class Selected {
        static final Database DATABASE = choose(System.getProperty(PROPERTY, "postgres"));

        private static Database choose(String name) {
            return switch (name) {
                case "postgres", "postgresql" -> Postgres.machineOrEmbedded();
                case "mariadb" -> new MariaDb();
                default -> throw new IllegalArgumentException("unknown -D" + PROPERTY + "=" + name + ": use postgres or mariadb");
            };
        }
    }

    /**
     * PostgreSQL: the machine's on 127.0.0.1:5432 (user postgres, trust auth) when one answers there, else an
     * embedded one unpacked from Maven Central ({@link EmbeddedPostgres}), so that no system database is needed.
     * {@code -Dit.postgres=embedded} forces the embedded one.
     */
    static final class Postgres extends Database {
        private final String host;
        private final int port;
        private final String origin;

        Postgres(String host, int port, String origin) {
            this.host = host;
            this.port = port;
            this.origin = origin;
        }

        static Postgres machineOrEmbedded() {
            boolean forceEmbedded = "embedded".equals(System.getProperty("it.postgres"));
            if (!forceEmbedded && answers("127.0.0.1", 5432)) {
                return new Postgres("127.0.0.1", 5432, "the machine's PostgreSQL on 127.0.0.1:5432");
            }
            int port = EmbeddedPostgres.start();
            System.out.println("[refresh-guard] " + (forceEmbedded ? "-Dit.postgres=embedded" : "no PostgreSQL on 127.0.0.1:5432")
                    + ": using an embedded PostgreSQL from Maven Central on 127.0.0.1:" + port);
            return new Postgres("127.0.0.1", port, "an embedded PostgreSQL on 127.0.0.1:" + port);
        }

        @Override
        public String kind() {
            return "postgres";
        }

        @Override
        public String address() {
            return host + ":" + port;
        }

        @Override
        public String jdbcUrl(String database) {
            return keycloakUrl(database) + "?user=postgres";
        }

        @Override
        public Optional<String> unavailable() {
            return answers(host, port) ? Optional.empty()
                    : Optional.of("PostgreSQL stopped answering on " + host + ":" + port + " (" + origin + ")");
        }

        @Override
        String keycloakUrl(String database) {
            return "jdbc:postgresql://" + host + ":" + port + "/" + database;
        }

        @Override
        String adminUrl() {
            return jdbcUrl("postgres");
        }

        @Override
        String user() {
            return "postgres";
        }

        @Override
        String password() {
            // trust auth: any password is ignored; Keycloak wants one
            return "unused";
        }

        @Override
        public ConnectionRoom connectionRoom() {
            return connectionRoom("SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity"
                            + " WHERE backend_type = 'client backend'",
                    "SELECT string_agg(db || ' ' || n, ', ' ORDER BY n DESC) FROM (SELECT coalesce(datname, '-') AS db,"
                            + " count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1) held");
        }

        @Override
        public String toString() {
            return origin;
        }
    }

    /** The machine's MariaDB on 127.0.0.1:3306 (-Dit.mariadb.address=host:port for another), user root, empty password. */
    static final class MariaDb extends Database {
        private final String address;

        MariaDb() {
            this(System.getProperty("it.mariadb.address", "127.0.0.1:3306"));
        }

        /** A MariaDB server at {@code host:port}, e.g. a {@link PrivateDatabase}. */
        MariaDb(String address) {
            this.address = address;
        }

        @Override
        public String kind() {
            return "mariadb";
        }

        @Override
        public String address() {
            return address;
        }

        @Override
        public String jdbcUrl(String database) {
            return keycloakUrl(database) + "?user=root&password=";
        }

        @Override
        public Optional<String> unavailable() {
            String[] hostPort = address.split(":");
            if (!answers(hostPort[0], Integer.parseInt(hostPort[1]))) {
                return Optional.of("MariaDB leg SKIPPED: nothing answers on " + address + " (to run it: apt-get install -y"
                        + " mariadb-server, start mariadbd, and let root log in without a password over TCP)");
            }
            try (Connection c = DriverManager.getConnection(adminUrl())) {
                return Optional.empty();
            } catch (SQLException e) {
                // Something answers where the leg expects its MariaDB: a refused login is a broken set-up, never a skip.
                throw new IllegalStateException("MariaDB leg FAILED: " + address + " answers, but " + user()
                        + " with an empty password cannot log in there: " + e.getMessage() + " (let root log in over TCP"
                        + " without a password, or leave the leg out with -Dit.mariadb.skip=true)", e);
            }
        }

        @Override
        String keycloakUrl(String database) {
            return "jdbc:mariadb://" + address + "/" + database;
        }

        @Override
        String adminUrl() {
            return "jdbc:mariadb://" + address + "/?user=root&password=";
        }

        @Override
        String user() {
            return "root";
        }

        @Override
        String password() {
            return "";
        }

        @Override
        public ConnectionRoom connectionRoom() {
            return connectionRoom("SELECT @@max_connections - (SELECT count(*) FROM information_schema.processlist)",
                    "SELECT group_concat(concat(db, ' ', n) ORDER BY n DESC SEPARATOR ', ') FROM (SELECT coalesce(db, '-') AS db,"
                            + " count(*) AS n FROM information_schema.processlist GROUP BY 1) held");
        }

        @Override
        public String toString() {
            return "MariaDB on " + address;
        }
    }
}
