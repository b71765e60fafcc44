# syntax=docker/dockerfile:1
# Heal: one image for both processes (`heal web` is the default command, `heal worker` the other).

# 1. Production dependencies only. tsx (a runtime dependency) runs the TypeScript sources directly.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 2. The runtime image: sources, production node_modules, a non-root user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node src ./src
COPY --chown=node:node config ./config
COPY --chown=node:node slack ./slack
USER node
EXPOSE 3000
# /healthz answers 200 once web is listening and Redis answers; the worker image overrides this (no HTTP).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/heal.js"]
CMD ["web"]
