/** `harrow cancel SWEEP` (see sweep-action.ts, shared by pause, resume, stop and cancel). */
import { sweepActionVerb } from './sweep-action.js';

export const cancelCommand = sweepActionVerb('cancel');
