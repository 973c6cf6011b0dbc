export { createGridStrategy } from './grid-strategy.js';
