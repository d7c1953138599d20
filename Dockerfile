# meshid agent image. Build: docker build -t meshid:0.1.0 .
#
# Stage 1 builds everything, the native SO_PEERCRED addon included; stage 2 keeps only what
# `meshid run` loads: production node_modules, dist/src, the addon and proto/.

FROM node:20-bookworm-slim AS build
# node-gyp compiles src/native/peer_credentials.c during `npm ci` (the package's install script).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# Compile against the headers that ship with this Node, instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY src/native ./src/native
RUN npm ci
# Only src/ is compiled here: tsconfig.json also includes test/ and bench/, which are not sent.
COPY tsconfig.json ./
COPY src ./src
COPY proto ./proto
RUN npm run build --silent \
 && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/build/Release/peer_credentials.node ./build/Release/peer_credentials.node
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/proto ./proto
# No USER: the agent keeps root's uid but is meant to run with every capability dropped
# (docker run --cap-drop=ALL --security-opt=no-new-privileges --read-only, or the Kubernetes
# securityContext in deploy/kubernetes/daemonset.yaml). Attestation itself needs no privilege:
# SO_PEERCRED and the world-readable /proc/<pid>/status, stat and cgroup do (with the host's pid
# namespace). The uid is for ownership: the host socket directory the kubelet (or docker -v)
# creates is root's 0755, and the upstream CA key is mounted readable by root only.
ENTRYPOINT ["node", "/app/dist/src/cli/main.js", "run", "--config", "/etc/meshid/meshid.yaml"]
# For `docker run`; Kubernetes uses the probes on the admin port instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "/app/dist/src/cli/main.js", "healthcheck", "--socket", "/run/meshid/agent.sock"]
