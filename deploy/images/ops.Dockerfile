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
RUN npm ci --omit=dev --omit=optional --ignore-scripts -w @tickets/ops && npm cache clean --force

# The operator tasks, run as a job: migrate, seed, reconcile, warm-cache, the queue and gateway switches.
#   docker run --rm -e BOOKING_MYSQL_URL=... -e PAYMENT_MYSQL_URL=... tickets/ops:<version> migrate
FROM node:20-bookworm-slim
# backup and restore run mariadb-dump and mariadb.
RUN apt-get update && apt-get install -y --no-install-recommends mariadb-client && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app ./
COPY --from=build /src/contracts/dist contracts/dist
# The Lua scripts, read from their .lua files when the modules that declare them load.
COPY --from=build /src/contracts/lua contracts/lua
COPY --from=build /src/shared/dist shared/dist
COPY --from=build /src/queue-service/dist queue-service/dist
COPY --from=build /src/booking-service/dist booking-service/dist
COPY --from=build /src/booking-service/lua booking-service/lua
COPY --from=build /src/booking-service/prisma booking-service/prisma
COPY --from=build /src/payment-service/dist payment-service/dist
COPY --from=build /src/payment-service/prisma payment-service/prisma
COPY --from=build /src/ops/dist ops/dist
ENV TZ=UTC MALLOC_ARENA_MAX=2 NODE_OPTIONS=--max-old-space-size=128
USER node
ENTRYPOINT ["node", "ops/dist/cli.js"]
