export { lineControls } from '@tickets/contracts/line-controls'
