// `npm run lint`: typescript-eslint's recommended rules on every package's source and tests, and the
// boundaries the layout relies on: a domain module imports no framework, driver or adapter, and a
// package reaches another only through its exports (never `../<package>/…`), and shipped code never
// imports the test kit.
import tseslint from 'typescript-eslint'

const FRAMEWORKS = ['fastify', 'fastify-plugin', '@fastify/*', '@prisma/*', 'ioredis', '@nats-io/*', 'mariadb', 'prom-client', 'pino']

export default tseslint.config(
  { ignores: ['**/dist/**', '**/generated/**', '**/node_modules/**', 'loadtest/reports/**', '.data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // A relative path that climbs out of its package into a sibling package.
              regex: String.raw`^(\.\./)+(gateway|queue-service|booking-service|payment-service|contracts|shared|testkit|ops|loadtest|deploy)/`,
              message: 'Import another package through its exports (@tickets/<name>/…), never by path.',
            },
          ],
        },
      ],
    },
  },
  {
    // The test kit is a dev dependency: code that ships never imports it. The drills (ops/src/drill,
    // `npm run drill`, never the ops image's entry point) start throw-away servers with it.
    files: ['*/src/**/*.ts'],
    ignores: ['testkit/src/**', 'ops/src/drill/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@tickets/testkit', message: 'The test kit is for tests only (a dev dependency): it is not in the images.' }],
          patterns: [
            {
              regex: String.raw`^(\.\./)+(gateway|queue-service|booking-service|payment-service|contracts|shared|testkit|ops|loadtest|deploy)/`,
              message: 'Import another package through its exports (@tickets/<name>/…), never by path.',
            },
            { group: ['@tickets/testkit/*'], message: 'The test kit is for tests only (a dev dependency): it is not in the images.' },
          ],
        },
      ],
    },
  },
  {
    files: ['*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: FRAMEWORKS, message: 'A domain module names no framework, driver or client: take a port (domain/ports.ts) instead.' },
            { group: ['../adapters/*', '../plugins/*', '../routes/*', '../consumers/*'], message: 'The domain does not import adapters or transport: they import it.' },
          ],
        },
      ],
    },
  },
)
