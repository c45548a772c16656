#!/usr/bin/env bash
# The Kafka node of the secure compose file (compose/secure.yml): clients log in with
# SASL/SCRAM-SHA-256 on every listener they can reach; the controller listener stays
# inside the node. KRaft keeps SCRAM users in its metadata, so the login is written into
# the storage when it is formatted (the image's own start has no place for it).
#
# Read from the environment (compose/secure.yml sets them):
#   LUMBUNG_KAFKA_USERNAME, LUMBUNG_KAFKA_PASSWORD   the login of every service
#   CLUSTER_ID                                       the KRaft cluster id
# and, with the defaults the container uses (tests/test_compose.py runs this script on the
# machine with other values):
#   KAFKA_BIN=/opt/kafka/bin  KAFKA_LOG_DIRS=/var/lib/kafka/data  KAFKA_NODE_ID=1
#   LISTEN_HOST=""  CLIENT_PORT=9092  CONTROLLER_PORT=9093  HOST_PORT=29092
#   ADVERTISED_HOST=kafka  HOST_ADVERTISED=localhost  KAFKA_CONFIG=/tmp/lumbung-kafka.properties
set -euo pipefail

: "${LUMBUNG_KAFKA_USERNAME:?set the Kafka login of the services}"
: "${LUMBUNG_KAFKA_PASSWORD:?set the Kafka password of the services}"
: "${CLUSTER_ID:?set the KRaft cluster id}"
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
KAFKA_LOG_DIRS=${KAFKA_LOG_DIRS:-/var/lib/kafka/data}
KAFKA_NODE_ID=${KAFKA_NODE_ID:-1}
LISTEN_HOST=${LISTEN_HOST:-}
CLIENT_PORT=${CLIENT_PORT:-9092}
CONTROLLER_PORT=${CONTROLLER_PORT:-9093}
HOST_PORT=${HOST_PORT:-29092}
ADVERTISED_HOST=${ADVERTISED_HOST:-kafka}
HOST_ADVERTISED=${HOST_ADVERTISED:-localhost}
KAFKA_CONFIG=${KAFKA_CONFIG:-/tmp/lumbung-kafka.properties}
CLIENT_CONFIG=${CLIENT_CONFIG:-/tmp/lumbung-client.properties}

login="org.apache.kafka.common.security.scram.ScramLoginModule required"
login="$login username=\"$LUMBUNG_KAFKA_USERNAME\" password=\"$LUMBUNG_KAFKA_PASSWORD\";"

cat > "$KAFKA_CONFIG" <<PROPERTIES
process.roles=broker,controller
node.id=$KAFKA_NODE_ID
controller.quorum.voters=$KAFKA_NODE_ID@${LISTEN_HOST:-localhost}:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=CLIENT://$LISTEN_HOST:$CLIENT_PORT,HOST://$LISTEN_HOST:$HOST_PORT,CONTROLLER://${LISTEN_HOST:-localhost}:$CONTROLLER_PORT
advertised.listeners=CLIENT://$ADVERTISED_HOST:$CLIENT_PORT,HOST://$HOST_ADVERTISED:$HOST_PORT
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,HOST:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=CLIENT
sasl.enabled.mechanisms=SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.client.scram-sha-256.sasl.jaas.config=$login
listener.name.host.scram-sha-256.sasl.jaas.config=$login
log.dirs=$KAFKA_LOG_DIRS
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPERTIES

# What the healthcheck logs in with (kafka-broker-api-versions.sh --command-config).
cat > "$CLIENT_CONFIG" <<PROPERTIES
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-256
sasl.jaas.config=$login
PROPERTIES
chmod 600 "$KAFKA_CONFIG" "$CLIENT_CONFIG"

"$KAFKA_BIN/kafka-storage.sh" format --ignore-formatted -t "$CLUSTER_ID" -c "$KAFKA_CONFIG" \
  --add-scram "SCRAM-SHA-256=[name=$LUMBUNG_KAFKA_USERNAME,password=$LUMBUNG_KAFKA_PASSWORD]"
exec "$KAFKA_BIN/kafka-server-start.sh" "$KAFKA_CONFIG"
