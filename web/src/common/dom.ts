export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`#${id} is missing from the page`)
  return el as T
}

export function setText(id: string, text: string): void {
  byId(id).textContent = text
}

/** Shows one `view-<name>` section, hides the others, and moves focus to its heading for screen readers and keyboards. */
export function showView(name: string): void {
  for (const section of document.querySelectorAll<HTMLElement>('section[id^="view-"]')) section.hidden = section.id !== `view-${name}`
  const heading = document.querySelector<HTMLElement>(`#view-${name} h2`)
  heading?.focus()
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props)
  node.append(...children)
  return node
}
