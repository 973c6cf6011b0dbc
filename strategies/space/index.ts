/** The search space: flattening, seeded sampling with W&B's laws, discrete cells, the unit cube. */
export { Rng } from './rng.js';
export { flattenParameters, getPath, setPath, cloneJson, type FlatParam, type LeafSpec } from './flatten.js';
export { leafModel, leafCount, roundHalfEven, type LeafModel } from './leaf-model.js';
export { sampleParams } from './sample-params.js';
export { DiscreteSpace } from './discrete-space.js';
export { encodeSpace, paramsIssues, DISCRETE_MAX_LEVELS, CDF_CLIP, type ParamsIssue } from './encode-space.js';
export { valueKey, sameValue } from './value-key.js';
export { normalCdf, normalPpf, betaCdf, lnGamma, erfc } from './special.js';
