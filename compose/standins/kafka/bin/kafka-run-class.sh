#!/bin/sh
# `kafka-run-class.sh <main class> <args>`: a class of the Kafka jars on Debian's Java 17.
# KAFKA_HEAP_OPTS, KAFKA_OPTS and KAFKA_LOG4J_OPTS as in Kafka's own scripts.
main=$1
shift
# shellcheck disable=SC2086 # the option variables hold several words
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC} $KAFKA_OPTS \
  ${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties} \
  -cp '/opt/kafka/libs/*' "$main" "$@"
