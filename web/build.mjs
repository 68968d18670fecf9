// Builds each page set to dist/<name>/: one bundled, minified script and one stylesheet under
// assets/ with content-hashed names (cached for a year), and index.html naming them (cached briefly).
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Marked } from 'marked'

const here = dirname(fileURLToPath(import.meta.url))
const PAGES = ['fan', 'console']

const hashed = (name, ext, content) => `${name}-${createHash('sha256').update(content).digest('hex').slice(0, 12)}.${ext}`

/** docs/runbook.md as a page of the console, each section's heading carrying the id an alert's runbook_url names. */
function runbookPage(style) {
  const slug = (text) =>
    text
      .toLowerCase()
      .replace(/<[^>]+>/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
  const marked = new Marked({
    renderer: {
      heading({ tokens, depth }) {
        const inner = this.parser.parseInline(tokens)
        return `<h${depth} id="${slug(inner)}">${inner}</h${depth}>\n`
      },
    },
  })
  const body = marked.parse(readFileSync(join(here, '..', 'docs', 'runbook.md'), 'utf8'))
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>Runbook · Tickets</title>\n<link rel="stylesheet" href="${style}">\n</head>\n<body>\n<header><h1>Runbook</h1><a href="./">Back to the console</a></header>\n<main class="runbook">\n${body}</main>\n</body>\n</html>\n`
}

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
  // The page's stylesheet with what it imports from common/ in one file.
  const styles = await build({ entryPoints: [join(src, 'page.css')], bundle: true, minify: true, write: false })
  const css = styles.outputFiles[0].contents
  const jsName = hashed(page, 'js', js)
  const cssName = hashed(page, 'css', css)
  writeFileSync(join(out, 'assets', jsName), js)
  writeFileSync(join(out, 'assets', cssName), css)
  const html = readFileSync(join(src, 'index.html'), 'utf8').replace('%SCRIPT%', `assets/${jsName}`).replace('%STYLE%', `assets/${cssName}`)
  writeFileSync(join(out, 'index.html'), html)
  if (page === 'console') writeFileSync(join(out, 'runbook.html'), runbookPage(`assets/${cssName}`))
  console.log(`web: ${page} ${js.length + css.length + Buffer.byteLength(html)} bytes (${jsName}, ${cssName})`)
}
