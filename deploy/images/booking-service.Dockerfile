# syntax=docker/dockerfile:1
# Build context: the repository root (npm run images). The build stage is the same text in every
# Dockerfile here, so it is built once and cached for all five images.
FROM node:20-bookworm-slim AS build
WORKDIR /src
ENV TURBO_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
COPY package.json package-lock.json .npmrc ./
COPY contracts/package.json contracts/
COPY shared/package.json shared/
COPY testkit/package.json testkit/
COPY web/package.json web/
COPY gateway/package.json gateway/
COPY queue-service/package.json queue-service/
COPY booking-service/package.json booking-service/
COPY payment-service/package.json payment-service/
COPY ops/package.json ops/
COPY loadtest/package.json loadtest/
COPY deploy/package.json deploy/
RUN npm ci --ignore-scripts
COPY . .
RUN npx turbo run build --filter=!@tickets/loadtest --output-logs=errors-only

# Production dependencies of one workspace and the workspaces it uses. --omit=optional as well:
# the Prisma CLI and TypeScript are optional peers of @prisma/client, which npm keeps otherwise.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY contracts/package.json contracts/
COPY shared/package.json shared/
COPY testkit/package.json testkit/
COPY web/package.json web/
COPY gateway/package.json gateway/
COPY queue-service/package.json queue-service/
COPY booking-service/package.json booking-service/
COPY payment-service/package.json payment-service/
COPY ops/package.json ops/
COPY loadtest/package.json loadtest/
COPY deploy/package.json deploy/
RUN npm ci --omit=dev --omit=optional --ignore-scripts -w @tickets/booking-service && npm cache clean --force

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=deps /app ./
COPY --from=build /src/contracts/dist contracts/dist
# The Lua scripts, read from their .lua files when the modules that declare them load.
COPY --from=build /src/contracts/lua contracts/lua
COPY --from=build /src/shared/dist shared/dist
COPY --from=build /src/booking-service/dist booking-service/dist
COPY --from=build /src/booking-service/lua booking-service/lua
# What `npm start` gives each process (scripts/start.mjs): UTC for DATETIME columns, two malloc
# arenas, a 128 MB old generation (NODE_HEAP_MB), the telemetry module loaded first. HOST and
# ADMIN_HOST 0.0.0.0 so the container's ports are reachable (the admin port by probes and Prometheus
# only: the deploy files publish the public port alone). No secret here: it comes at run time.
ENV TZ=UTC MALLOC_ARENA_MAX=2 NODE_OPTIONS=--max-old-space-size=128 OTEL_SDK_DISABLED=false \
    OTEL_SERVICE_NAME=booking-service HOST=0.0.0.0 PORT=3002 \
    ADMIN_HOST=0.0.0.0 ADMIN_PORT=9082
WORKDIR /app/booking-service
USER node
EXPOSE 3002 9082
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.ADMIN_PORT + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--import", "@tickets/shared/telemetry/register", "dist/server.js"]
