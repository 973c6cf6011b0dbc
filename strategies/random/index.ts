export { createRandomStrategy } from './random-strategy.js';
