#!/bin/sh
# Runs once, after the influxdb image's first-run setup (DOCKER_INFLUXDB_INIT_MODE=setup) has created
# the org, the bucket and the admin token from DOCKER_INFLUXDB_INIT_*; the image exports
# DOCKER_INFLUXDB_INIT_BUCKET_ID to init scripts and leaves the influx CLI logged in with the token.
#
# heatwatch and Grafana read history with InfluxQL over the v1-compatible /query endpoint (docs/architecture.md
# decision 2: Flux is not used, InfluxDB 3 dropped it). InfluxQL names a database and retention policy;
# InfluxDB 2 maps those to a bucket through a DBRP mapping. 2.7 would also answer through a virtual
# mapping (database = bucket name), but an explicit, default mapping survives renaming the bucket and
# is what Grafana's InfluxQL data source documents, so it is created here.
set -eu

if influx v1 dbrp list --bucket-id "$DOCKER_INFLUXDB_INIT_BUCKET_ID" --hide-headers 2>/dev/null | grep -q .; then
  echo "heatwatch: DBRP mapping for bucket $DOCKER_INFLUXDB_INIT_BUCKET already exists"
  exit 0
fi
influx v1 dbrp create \
  --org "$DOCKER_INFLUXDB_INIT_ORG" \
  --bucket-id "$DOCKER_INFLUXDB_INIT_BUCKET_ID" \
  --db "$DOCKER_INFLUXDB_INIT_BUCKET" \
  --rp autogen \
  --default
echo "heatwatch: InfluxQL database $DOCKER_INFLUXDB_INIT_BUCKET/autogen -> bucket $DOCKER_INFLUXDB_INIT_BUCKET"
