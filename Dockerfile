# syntax=docker/dockerfile:1
#
# heatwatch image. Two stages:
#   build   — all dependencies (dev ones too), then `tsc --noEmit`: an image is never built from
#             sources that do not type-check. Production dependencies are then pruned in place, so
#             the native better-sqlite3 binding compiled (or downloaded) here is the one shipped.
#   runtime — the same base (same Debian, glibc and Node ABI as the build stage, so the native
#             binding loads), production node_modules and the sources, run by a non-root user.
#
# Base: node:24-slim, the newest LTS line that package.json `engines` lists. Node 20 left upstream
# support on 2026-04-30; of the two LTS lines a security review accepts, 24 is supported until
# 2028-04-30 and 22 only until 2027-04-30, and better-sqlite3 12 ships for both. CI runs the whole
# suite on Node 24 too (.ci/run); test/deploy/compose.test.ts keeps this default, `engines` and the
# CI's Node in step. `--build-arg NODE_IMAGE=node:22-slim` builds on 22, inside the range.
#
# Why tsx runs the TypeScript sources instead of a compiled dist/: the sources import each other
# with `.ts` extensions (tsconfig allowImportingTsExtensions + noEmit), exactly as `npm start`, the
# CLI and the tests run them. Shipping the same files keeps one code path from the tests to
# production, and stack traces point at the files an engineer reads. tsx is already a production
# dependency; it transpiles each module once at start (well under a second for heatwatch), and costs
# nothing per message afterwards.

ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Toolchain only for the case where no prebuilt better-sqlite3 binary matches this platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json biome.json vitest.config.ts ./
COPY src ./src
COPY firmware-sim ./firmware-sim
COPY test ./test
COPY bench ./bench
COPY config ./config
RUN npx tsc --noEmit \
  && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HEATWATCH_CONFIG=/config \
    HEATWATCH_DATA_DIR=/data \
    HEATWATCH_HTTP_PORT=8080
WORKDIR /app
# A fixed uid/gid, so volume ownership is the same on every host that runs the image.
RUN groupadd --system --gid 10001 heatwatch \
  && useradd --system --uid 10001 --gid heatwatch --home-dir /app --shell /usr/sbin/nologin heatwatch
COPY --from=build /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY firmware-sim ./firmware-sim
# The demo network and default settings: `docker run` works without mounts; production mounts its
# own config directory over /config.
COPY config /config
# dist/: the dashboard is bundled with esbuild at start (http.buildDashboard) and needs a writable
# place. /data holds every SQLite file (operational database, spool, embedded reading store).
# /mosquitto-auth receives the broker's password file and ACL from `heatwatch mosquitto-files`, which
# docker-compose.yml runs as uid 1883, the mosquitto user of the eclipse-mosquitto image: the files
# are then the broker's own (mode 0600) and can be written again after the broker has started.
RUN mkdir -p /app/dist /data /mosquitto-auth \
  && chown -R heatwatch:heatwatch /app/dist /data \
  && chown 1883:1883 /mosquitto-auth
USER heatwatch
VOLUME ["/data", "/config"]
EXPOSE 8080
# No curl in node:*-slim; Node's own fetch asks /api/health (the one route without a token).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HEATWATCH_HTTP_PORT||8080)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["src/main.ts"]
