import { byId } from '../common/dom.js'

/** Asks before a switch is flipped; resolves true only on an explicit Confirm. */
export function confirmChange(text: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm')
  byId('confirm-text').textContent = text
  dialog.returnValue = ''
  dialog.showModal()
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }))
}
