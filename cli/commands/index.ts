/**
 * Every verb, in the order `harrow --help` lists them, with its one-line summary and how to load
 * it. Verbs are imported only when run: `harrow status` must not load the server, the database
 * drivers and the Bayesian optimizer just to print a table (it once took 1 s to start for that).
 * Add a verb by adding its module here.
 */
import type { Command } from '../command.js';

export interface VerbEntry {
  name: string;
  /** One line for `harrow --help`. */
  summary: string;
  load(): Promise<Command>;
}

export const verbs: readonly VerbEntry[] = [
  { name: 'demo', summary: 'Run a real example sweep end to end on this box (embedded database, two agents)', load: async () => (await import('./demo.js')).demoCommand },
  { name: 'server', summary: 'Run the controller: HTTP API, scheduler, report ingestion, crash detection', load: async () => (await import('./server.js')).serverCommand },
  { name: 'validate', summary: 'Check a sweep file and show what it searches (no server needed)', load: async () => (await import('./validate.js')).validateCommand },
  { name: 'preview', summary: 'Show the first configurations and the command a sweep file would run', load: async () => (await import('./preview.js')).previewCommand },
  { name: 'create', summary: 'Create a sweep from a sweep file and print the agent command', load: async () => (await import('./create.js')).createCommand },
  { name: 'agent', summary: "Run a sweep's training runs on this machine", load: async () => (await import('./agent.js')).agentCommand },
  { name: 'status', summary: "List sweeps, or show one sweep's state, run counts and best run", load: async () => (await import('./status.js')).statusCommand },
  { name: 'best', summary: 'Show the best run so far and the best-so-far curve', load: async () => (await import('./best.js')).bestCommand },
  { name: 'watch', summary: 'Follow a sweep live: run states, best so far, recent transitions', load: async () => (await import('./watch.js')).watchCommand },
  { name: 'runs', summary: "List a sweep's runs with their metric, parameters and stop reasons", load: async () => (await import('./runs.js')).runsCommand },
  { name: 'pause', summary: 'Pause a sweep: no new runs start; running ones go on', load: async () => (await import('./pause.js')).pauseCommand },
  { name: 'resume', summary: 'Resume a paused sweep', load: async () => (await import('./resume.js')).resumeCommand },
  { name: 'stop', summary: 'Stop a sweep: no new runs; running ones finish', load: async () => (await import('./stop.js')).stopCommand },
  { name: 'cancel', summary: 'Cancel a sweep: its running runs are killed', load: async () => (await import('./cancel.js')).cancelCommand },
  { name: 'stop-run', summary: 'Stop one run (a queued run is canceled)', load: async () => (await import('./stop-run.js')).stopRunCommand },
  { name: 'extend', summary: 'Raise a sweep\'s run_cap and let it continue (an ended sweep runs again)', load: async () => (await import('./extend.js')).extendCommand },
  { name: 'rerun', summary: 'Rerun failed and crashed runs (or grid cells) as new runs linked to them', load: async () => (await import('./rerun.js')).rerunCommand },
  { name: 'enqueue', summary: 'Queue configurations from a YAML/JSON file ahead of the strategy', load: async () => (await import('./enqueue.js')).enqueueCommand },
  { name: 'clone', summary: 'Queue a new run with a run\'s parameters, some edited (--set lr=0.01)', load: async () => (await import('./clone.js')).cloneCommand },
  { name: 'warm-start', summary: 'Import prior results (W&B/MLflow export, or another sweep) for the strategy to learn from', load: async () => (await import('./warm-start.js')).warmStartCommand },
  { name: 'edit', summary: "Edit a running sweep's spec as a new version (--history lists them)", load: async () => (await import('./edit.js')).editCommand },
  { name: 'sweep', summary: 'Set a sweep\'s priority and slot cap on agents serving several sweeps (live)', load: async () => (await import('./sweep.js')).sweepCommand },
  { name: 'report', summary: 'Write a sweep as one self-contained HTML file', load: async () => (await import('./report.js')).reportCommand },
  { name: 'token', summary: 'Named API tokens with roles: create, list, revoke (admin)', load: async () => (await import('./token.js')).tokenCommand },
  { name: 'audit', summary: 'Who did what: the audit trail, for one sweep or all', load: async () => (await import('./audit.js')).auditCommand },
  { name: 'delete', summary: 'Delete a sweep and everything of it, in the database and Redis (admin)', load: async () => (await import('./delete.js')).deleteCommand },
  { name: 'retention', summary: 'What retention (HARROW_RETENTION_DAYS) removes; --dry-run only lists it (admin)', load: async () => (await import('./retention.js')).retentionCommand },
  { name: 'db', summary: 'Database maintenance: `harrow db migrate` applies pending migrations', load: async () => (await import('./db.js')).dbCommand },
];
