#!/usr/bin/env bash
# The demo: builds the JAR, starts Keycloak (version from pom.xml) with it on the embedded dev-file database,
# imports the realm demo/demo-realm.json, and prints how to watch a refresh-token reuse being caught.
# Needs only a JDK 17+: ./mvnw fetches Maven, and Maven fetches Keycloak, from Maven Central.
#
#   ./demo/run.sh            start (state is kept in demo/data/ between runs)
#   ./demo/run.sh --reset    forget everything (Keycloak, database, log) and start afresh
#
# DEMO_PORT (default 8080) and DEMO_MANAGEMENT_PORT (default 9000) choose the ports. Ctrl-C stops Keycloak.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${DEMO_PORT:-8080}
MANAGEMENT_PORT=${DEMO_MANAGEMENT_PORT:-9000}
DATA=$ROOT/demo/data
LOG=$DATA/keycloak.log
KC_VERSION=$(sed -n 's:.*<keycloak.version>\(.*\)</keycloak.version>.*:\1:p' pom.xml | head -n 1)
KC_HOME=$DATA/keycloak-$KC_VERSION

case "${1:-}" in
  "") ;;
  --reset) rm -rf "$DATA" ;;
  *) echo "usage: $0 [--reset]" >&2; exit 2 ;;
esac

# Fail fast, before another server's health endpoint could be taken for ours.
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$PORT" "$MANAGEMENT_PORT"; do
  if in_use "$port"; then
    echo "Port $port is in use: stop what runs there, or choose others with DEMO_PORT / DEMO_MANAGEMENT_PORT." >&2
    exit 1
  fi
done

echo "==> Building the JAR (./mvnw package, tests skipped)"
./mvnw -B -q -ntp package -DskipTests
JAR=$(ls target/keycloak-refresh-guard-*.jar | grep -v -e '-sources\.jar$' -e '-javadoc\.jar$' -e '-tests\.jar$' | head -n 1)

echo "==> Fetching Keycloak $KC_VERSION (org.keycloak:keycloak-quarkus-dist, ~200 MB on the first run) into demo/data/"
# The build's own unpack execution, pointed at demo/data: the tests' copy in target/ stays untouched.
./mvnw -B -q -ntp dependency:unpack@unpack-keycloak -DskipITs=false -Dkeycloak.dist.dir="$DATA"

mkdir -p "$KC_HOME/providers" "$KC_HOME/data/import"
cp "$JAR" "$KC_HOME/providers/keycloak-refresh-guard.jar"
# Imported on start when the realm does not exist yet (an existing realm demo is left as it is).
cp demo/demo-realm.json "$KC_HOME/data/import/demo-realm.json"

echo "==> Starting Keycloak $KC_VERSION on http://localhost:$PORT (1-3 minutes; log: demo/data/keycloak.log)"
export KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin
# LOCK_TIMEOUT: concurrent refreshes of one token wait for H2's row lock (as they would on PostgreSQL)
# instead of giving up after H2's default of two seconds on a busy machine.
"$KC_HOME/bin/kc.sh" start-dev \
  --http-port="$PORT" \
  --http-management-port="$MANAGEMENT_PORT" \
  --health-enabled=true \
  --metrics-enabled=true \
  --db-url-properties=';LOCK_TIMEOUT=10000' \
  --import-realm >"$LOG" 2>&1 &
KC_PID=$!
stop() {
  trap - INT TERM
  echo
  echo "==> Stopping Keycloak"
  kill -TERM "$KC_PID" 2>/dev/null || true
  wait "$KC_PID" 2>/dev/null || true
  exit 0
}
trap stop INT TERM

# Ready when the management interface says so (after the realm import). Plain bash, no curl needed.
ready() {
  (exec 3<>"/dev/tcp/127.0.0.1/$MANAGEMENT_PORT" \
    && printf 'GET /health/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3 \
    && grep -q 'HTTP/1.1 200' <&3) 2>/dev/null
}
deadline=$((SECONDS + 600))
until ready; do
  if ! kill -0 "$KC_PID" 2>/dev/null; then
    echo "Keycloak stopped during start-up. The end of demo/data/keycloak.log:" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "Keycloak did not start within 10 minutes; see demo/data/keycloak.log" >&2
    kill -TERM "$KC_PID" 2>/dev/null || true
    exit 1
  fi
  sleep 1
done

BASE=http://localhost:$PORT
cat <<EOF

================================================================================
 Keycloak $KC_VERSION with refresh-guard is running.

 Admin console:  $BASE/admin/master/console/#/demo   (user admin, password admin)
 Realm demo:     protected (event listener refresh-guard); public client demo-spa with a 10 s grace,
                 confidential client demo-api (secret demo-api-secret); user alice, password alice.
 Log:            demo/data/keycloak.log        Metrics: http://localhost:$MANAGEMENT_PORT/metrics

 Walk-through: paste this whole block into a bash shell (it takes about 12 s; in zsh, first
 run: setopt interactivecomments).
--------------------------------------------------------------------------------
BASE=$BASE
EOF
cat <<'EOF'
KC=$BASE/realms/demo/protocol/openid-connect
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

# 1. alice logs in to demo-spa (password grant): refresh token RT1
RT1=$(curl -s "$KC/token" -d grant_type=password -d client_id=demo-spa -d username=alice -d password=alice -d scope=openid | field refresh_token)

# 2. The app refreshes: RT1 is rotated to RT2
R2=$(curl -s "$KC/token" -d grant_type=refresh_token -d client_id=demo-spa -d refresh_token="$RT1")
RT2=$(echo "$R2" | field refresh_token); AT2=$(echo "$R2" | field access_token)
curl -s "$KC/token/introspect" -u demo-api:demo-api-secret -d token="$AT2" | grep -o '"active":true' # RT2's access token is live

# 3. A retry with RT1 within the 10 s grace (say the response was lost) gets the very same RT2
[ "$(curl -s "$KC/token" -d grant_type=refresh_token -d client_id=demo-spa -d refresh_token="$RT1" | field refresh_token)" = "$RT2" ] && echo "grace retry: same RT2"

# 4. After the grace, someone replays the stolen RT1: reuse caught -> HTTP 400 invalid_grant "...reuse..."
sleep 11
curl -s -w ' HTTP %{http_code}\n' "$KC/token" -d grant_type=refresh_token -d client_id=demo-spa -d refresh_token="$RT1"

# 5. The whole family is revoked: RT2 is refused, RT2's access token is no longer active
curl -s -w ' HTTP %{http_code}\n' "$KC/token" -d grant_type=refresh_token -d client_id=demo-spa -d refresh_token="$RT2"
curl -s -w ' HTTP %{http_code}\n' "$KC/token/introspect" -u demo-api:demo-api-secret -d token="$AT2"

# 6. The alert: event REFRESH_TOKEN_ERROR, error refresh_token_reused (admin REST; also in the console)
ADMIN=$(curl -s "$BASE/realms/master/protocol/openid-connect/token" -d grant_type=password -d client_id=admin-cli -d username=admin -d password=admin | field access_token)
curl -s -H "Authorization: Bearer $ADMIN" "$BASE/admin/realms/demo/events?type=REFRESH_TOKEN_ERROR" | grep -o '{[^{]*"error":"refresh_token_reused"[^}]*}}' | head -n 1
EOF
cat <<EOF
--------------------------------------------------------------------------------
 In the admin console: realm demo -> Events -> User events: REFRESH_TOKEN_ERROR, error refresh_token_reused
 (expand it for family_id, generation, latest_generation, first_use_ip, action, sessions_revoked).
 The same alert as one JSON line:  grep '\[dev.refreshguard.alert\]' demo/data/keycloak.log
 Counters:  curl -s http://localhost:$MANAGEMENT_PORT/metrics | grep refresh_guard

 Ctrl-C stops Keycloak. ./demo/run.sh --reset starts from scratch.
================================================================================
EOF

wait "$KC_PID" || true
