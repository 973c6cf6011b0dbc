import type { SweepSpec } from '../types.js';
import { SweepConfigError } from './sweep-config-error.js';
import { validateSweepConfig } from './validate-sweep-config.js';

/**
 * Reads a sweep config (YAML or JSON text, UTF-8 bytes, or an object) and returns the normalized
 * spec, or throws a `SweepConfigError` whose `issues` list every problem as `{ path, message }`.
 * Non-fatal findings (deprecated forms, coerced strings) are in `spec.warnings`.
 */
export function parseSweepConfig(textOrObject: unknown): SweepSpec {
  const result = validateSweepConfig(textOrObject);
  if (!result.valid || !result.spec) throw new SweepConfigError(result.errors, result.warnings);
  return result.spec;
}
