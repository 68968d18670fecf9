import { requireServices } from './index.js'

export default async function setup() {
  await requireServices()
}
