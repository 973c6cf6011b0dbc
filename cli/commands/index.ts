import type { Command } from '../command.js';
import { agentCommand } from './agent.js';
import { serverCommand } from './server.js';
import { dbCommand } from './db.js';
import { demoCommand } from './demo.js';
import { createCommand } from './create.js';
import { statusCommand } from './status.js';
import { bestCommand } from './best.js';
import { watchCommand } from './watch.js';
import { runsCommand } from './runs.js';
import { pauseCommand } from './pause.js';
import { resumeCommand } from './resume.js';
import { stopCommand } from './stop.js';
import { cancelCommand } from './cancel.js';
import { stopRunCommand } from './stop-run.js';
import { validateCommand } from './validate.js';
import { previewCommand } from './preview.js';
import { reportCommand } from './report.js';

/** Every verb, in the order `harrow --help` lists them. Add a verb by adding its module here. */
export const commands: Command[] = [demoCommand, serverCommand, validateCommand, previewCommand, createCommand, agentCommand, statusCommand, bestCommand, watchCommand, runsCommand, pauseCommand, resumeCommand, stopCommand, cancelCommand, stopRunCommand, reportCommand, dbCommand];
