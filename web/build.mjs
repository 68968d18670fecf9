// Builds each page set to dist/<name>/: one bundled, minified script and one stylesheet under
// assets/ with content-hashed names (cached for a year), and index.html naming them (cached briefly).
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const PAGES = ['fan']

const hashed = (name, ext, content) => `${name}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}.${ext}`

for (const page of PAGES) {
  const src = join(here, 'src', page)
  const out = join(here, 'dist', page)
  rmSync(out, { recursive: true, force: true })
  mkdirSync(join(out, 'assets'), { recursive: true })
  const result = await build({
    entryPoints: [join(src, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    write: false,
    legalComments: 'none',
  })
  const js = result.outputFiles[0].contents
  const css = readFileSync(join(src, 'page.css'))
  const jsName = hashed(page, 'js', js)
  const cssName = hashed(page, 'css', css)
  writeFileSync(join(out, 'assets', jsName), js)
  writeFileSync(join(out, 'assets', cssName), css)
  const html = readFileSync(join(src, 'index.html'), 'utf8').replace('%SCRIPT%', `assets/${jsName}`).replace('%STYLE%', `assets/${cssName}`)
  writeFileSync(join(out, 'index.html'), html)
  console.log(`web: ${page} ${js.length + css.length + Buffer.byteLength(html)} bytes (${jsName}, ${cssName})`)
}
