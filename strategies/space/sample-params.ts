import type { ParameterSpec, Params } from '../types.js';
import { flattenParameters, setPath } from './flatten.js';
import { leafModel, type LeafModel } from './leaf-model.js';
import type { Rng } from './rng.js';

/**
 * One configuration drawn from the prior: every leaf sampled independently with W&B's law, in W&B's
 * (sorted, depth-first) order, constants included. `params` nest like the file's `parameters:`.
 */
export function sampleParams(parameters: { readonly [name: string]: ParameterSpec }, rng: Rng): Params {
  return sampleFromModels(flattenParameters(parameters).map(leafModel), rng);
}

export function sampleFromModels(models: readonly LeafModel[], rng: Rng): Params {
  const params: Params = {};
  for (const m of models) setPath(params, m.flat.path, m.sample(rng));
  return params;
}
