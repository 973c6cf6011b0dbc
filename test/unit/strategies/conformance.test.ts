import { createBayesStrategy } from '../../../strategies/bayes/index.js';
import { createGridStrategy, createRandomStrategy } from '../../../strategies/index.js';
import { strategyConformance } from './conformance.js';

strategyConformance('random', (spec, options) => createRandomStrategy(spec, options), {
  method: 'random',
  continuous: true,
  seeded: true,
  stateless: true,
  repeatsWeightedLeaves: true,
  stopsWhenExhausted: false,
  historySize: 40,
});

strategyConformance('grid', (spec) => createGridStrategy(spec), {
  method: 'grid',
  continuous: false,
  seeded: false,
  stateless: true,
  stopsWhenExhausted: true,
  historySize: 40,
});

// The GP strategy keeps its last fit for warm starts, so it is not checked for statelessness; it
// never re-proposes an evaluated configuration, so a used-up finite space gives no proposals.
strategyConformance('bayes', (spec, options) => createBayesStrategy(spec, options), {
  method: 'bayes',
  continuous: true,
  seeded: true,
  stateless: false,
  stopsWhenExhausted: true,
  historySize: 14,
});
