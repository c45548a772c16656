#!/bin/sh
# The broker: 512 MiB of heap unless KAFKA_HEAP_OPTS says otherwise (the official image
# gives it 1 GiB; the compose test runs up to three nodes on a small machine), its log on
# the console.
: "${KAFKA_HEAP_OPTS:=-Xmx512m -Xms256m}"
: "${KAFKA_LOG4J_OPTS:=-Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties}"
export KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS
exec /opt/kafka/bin/kafka-run-class.sh kafka.Kafka "$@"
