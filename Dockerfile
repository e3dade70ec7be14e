# steprun-watch: a multi-stage build; the runtime image runs as the unprivileged `node` user.
# Built and run by `npm run test:deploy` with podman (docs/DEPLOY.md); its structure is also checked by test/unit/deploy.test.ts.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.runtime.json ./
COPY scripts ./scripts
COPY src ./src
COPY workers ./workers
COPY ui ./ui
RUN node scripts/build.js --runtime && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    SRW_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
COPY examples ./examples
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8787/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/steprun-watch.js"]
CMD ["daemon"]
