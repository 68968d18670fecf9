// Where the built pages are, for the gateway to serve (`npm run build` writes them).
import { fileURLToPath } from 'node:url'

export const fanPagesDir = fileURLToPath(new URL('./dist/fan/', import.meta.url))
export const consolePagesDir = fileURLToPath(new URL('./dist/console/', import.meta.url))
