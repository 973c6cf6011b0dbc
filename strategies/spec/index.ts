/** The sweep language: reading, validating and normalizing W&B sweep files (plus `harrow:`). */
export { parseSweepConfig } from './parse-sweep-config.js';
export { validateSweepConfig, type ValidationResult, LARGE_GRID } from './validate-sweep-config.js';
export { SweepConfigError, formatIssue } from './sweep-config-error.js';
export { DISTRIBUTIONS, DISTRIBUTION_KEYS, PARAMETER_NAME } from './validate-parameters.js';
export { MAX_SOURCE_CHARS, MAX_ALIASES, MAX_NODES } from './read-source.js';
