#!/bin/sh
# Installs the peer the benchmark compares heatwatch with — Node-RED and node-red-contrib-influxdb —
# into bench/.peer/ (git-ignored). Not a dependency of heatwatch; run on demand, or let
# `npm run bench -- peer` call it the first time.
set -eu
cd "$(dirname "$0")/../.."
if [ -x bench/.peer/node_modules/.bin/node-red ] && [ -d bench/.peer/node_modules/node-red-contrib-influxdb ]; then
  echo "peer already installed in bench/.peer"
  exit 0
fi
mkdir -p bench/.peer
npm install --prefix bench/.peer --no-audit --no-fund --loglevel=error node-red node-red-contrib-influxdb
echo "peer installed in bench/.peer"
