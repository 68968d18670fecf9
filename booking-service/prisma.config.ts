import { fileURLToPath } from 'node:url'
import { defineConfig } from 'prisma/config'

// Prisma's native schema engine cannot be downloaded here; `prisma generate` only needs the file to
// exist. Migrations are applied by @tickets/shared/migrate instead (see TOOLCHAIN notes in README).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(new URL('../scripts/no-schema-engine.sh', import.meta.url))

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/tickets_booking' },
})
