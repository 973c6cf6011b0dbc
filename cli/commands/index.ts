import type { Command } from '../command.js';

/** Every verb, in the order `harrow --help` lists them. Add a verb by adding its module here. */
export const commands: Command[] = [];
