# secretslite on Debian 12 with SoftHSM2; state (LevelDB and the token) in the /data volume.
# No Docker engine runs in this repository's CI: spec/package/dockerfile.spec.ts checks this file
# statically and runs its health check. Keep it in step with scripts/setup.sh and docs/docker.md.

# A Node the suite runs on: CI tests Node 20 and the current Node of scripts/test-current-node.sh (26, LTS,
# whose OpenSSL 3.5 offers the post-quantum --tls-groups); spec/package/dockerfile.spec.ts keeps them in step.
# pkcs11js and classic-level use Node-API, so `docker build --build-arg NODE_VERSION=20 .` builds too.
ARG NODE_VERSION=26

FROM node:${NODE_VERSION}-bookworm-slim AS build
# pkcs11js compiles with node-gyp: build against the image's own Node headers, without downloading them.
ENV npm_config_nodedir=/usr/local
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install`, not `npm ci`: the committed lock was made against a registry that lacks other platforms'
# optional binaries (@swc/core-darwin-*, …), and `npm ci` refuses a lock missing them whatever registry
# it then talks to. `npm install` keeps every version the lock pins and only adds those entries.
# Switch to `npm ci` once the lock is regenerated against registry.npmjs.org.
# The package's own `prepare` (which builds dist/ for git installs) would run here before src/ is copied: this
# stage builds with `npm run build` below instead.
RUN npm pkg delete scripts.prepare \
 && npm install --no-audit --no-fund \
 && node -e "require('pkcs11js'); require('classic-level')"
# The require above fails the build here, not at the first container start, if a future npm skipped
# the native addons' install scripts.
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
# openssl: `--tls` makes its self-signed certificate with the openssl CLI.
RUN apt-get update \
 && apt-get install -y --no-install-recommends softhsm2 openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json README.md LICENSE ./
COPY bin ./bin
# The official image's unprivileged `node` user (uid 1000) owns /data, so a new named volume
# starts out writable by it (Docker copies the mount point's owner into an empty volume).
RUN mkdir /data && chown node:node /data
# A container is reached through its published port, so it listens on every interface. secretslite
# writes its SoftHSM2 config to <data dir>/token/softhsm2.conf and sets SOFTHSM2_CONF itself; the
# variable here is for `docker exec … softhsm2-util --show-slots`.
ENV NODE_ENV=production \
    SECRETSLITE_HOST=0.0.0.0 \
    SECRETSLITE_PORT=4566 \
    SECRETSLITE_DATA_DIR=/data \
    SOFTHSM2_CONF=/data/token/softhsm2.conf
USER node
VOLUME /data
EXPOSE 4566
# Reads SECRETSLITE_PORT so a changed port keeps a working check; `--tls` needs an overridden check
# (docs/docker.md). Exec form: no shell involved in quoting.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.SECRETSLITE_PORT || 4566) + '/_secretslite/health').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# node runs as PID 1 and handles SIGTERM itself (bin → dist/cli.js), so `docker stop` closes LevelDB
# and the token cleanly. Arguments after the image name are CLI flags.
ENTRYPOINT ["node", "/app/bin/secretslite.js"]
