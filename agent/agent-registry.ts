/**
 * The agents running on this box, for `harrow agent --drain`: each agent process writes
 * `<dir>/<pid>.json` (its id, sweeps, transport, start time) once its signal handlers are in
 * place, marks it when it drains, and removes it when it exits. A file left by an agent that died
 * without cleaning up (SIGKILL, a power cut) is recognised and removed by the next reader: its pid
 * is gone, or (Linux) now names another process, whose start time differs from the one recorded.
 * That check matters: SIGUSR2 kills a process that does not handle it, so a stale file must never
 * lead the drain to signal an unrelated process that inherited the pid.
 *
 * The directory is per user: HARROW_AGENTS_DIR, else `/tmp/harrow-agents-<uid>`. Like tmux's
 * `/tmp/tmux-<uid>`, the default ignores TMPDIR and XDG_RUNTIME_DIR: an agent run by systemd or
 * Slurm and an operator's login shell rarely agree on those, and they must find the same place.
 * It must belong to the user and be writable by nobody else, or another user could plant a file
 * that makes the drain signal one of our processes (or hide our agents from it).
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { HarrowError } from '../protocol/errors.js';

export const AgentRecordSchema = z.object({
  v: z.literal(1),
  pid: z.number().int().positive(),
  agentId: z.string().min(1),
  /** The sweeps it serves; empty with `all`. */
  sweeps: z.array(z.string()),
  all: z.boolean(),
  transport: z.enum(['redis', 'http']),
  host: z.string(),
  startedAt: z.string(),
  /** The process's start time (Linux: field 22 of /proc/<pid>/stat), to tell a reused pid; null elsewhere. */
  procStart: z.string().nullable(),
  /** Set once it drains: a second drain must not signal it again (a repeated signal escalates). */
  draining: z.boolean(),
});
export type AgentRecord = z.output<typeof AgentRecordSchema>;

/** What the registry needs to know about processes; the real one by default, a fake in tests. */
export interface ProcessProbe {
  /** Is a process with this pid alive (ours or not)? */
  alive(pid: number): boolean;
  /** Its start time as recorded in AgentRecord.procStart, or null where the OS does not say. */
  startTime(pid: number): string | null;
}

export const realProcessProbe: ProcessProbe = {
  alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      // EPERM: alive, but another user's (a pid reused by someone else's process).
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
  startTime(pid) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field 22 of the line (starttime) is the 20th after comm (fields 1 and 2).
    return fields[19] ?? null;
  },
};

/** The directory when HARROW_AGENTS_DIR is not set: `/tmp/harrow-agents-<uid>` (Windows: the temporary directory). */
export function defaultAgentsDir(uid: number | undefined, tmp = process.platform === 'win32' ? tmpdir() : '/tmp'): string {
  return join(tmp, `harrow-agents-${uid ?? 'user'}`);
}

export interface AgentSelection {
  agentId?: string;
  pid?: number;
}

export interface Registration {
  readonly file: string;
  markDraining(): void;
  remove(): void;
}

export class AgentRegistry {
  constructor(
    readonly dir: string,
    private readonly probe: ProcessProbe = realProcessProbe,
  ) {}

  /** Records this process's agent; throws INVALID_CONFIG when the directory is unsafe or unwritable. */
  register(entry: Omit<AgentRecord, 'v' | 'pid' | 'procStart' | 'draining'>, pid = process.pid): Registration {
    this.ensureDir();
    // Files of agents killed without cleaning up (SIGKILL) go now rather than pile up.
    this.list();
    const file = join(this.dir, `${pid}.json`);
    let record: AgentRecord = { v: 1, pid, procStart: this.probe.startTime(pid), draining: false, ...entry };
    const write = (): void => {
      // Written whole then renamed: a reader never sees half a file.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
      renameSync(tmp, file);
    };
    write();
    let removed = false;
    return {
      file,
      markDraining: () => {
        if (removed || record.draining) return;
        record = { ...record, draining: true };
        write();
      },
      remove: () => {
        if (removed) return;
        removed = true;
        unlinkQuietly(file);
      },
    };
  }

  /**
   * The agents alive now, oldest first. Files of dead agents (and unreadable ones) are removed on
   * the way. A missing directory means no agent ever registered here.
   */
  list(): AgentRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new HarrowError('INVALID_CONFIG', `cannot read the agents' directory ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    const live: AgentRecord[] = [];
    for (const name of names) {
      const m = /^(\d+)\.json$/.exec(name);
      if (!m) continue;
      const file = join(this.dir, name);
      const record = readRecord(file);
      if (record === null || String(record.pid) !== m[1] || !this.isLive(record)) {
        unlinkQuietly(file);
        continue;
      }
      live.push(record);
    }
    return live.sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.pid - b.pid);
  }

  /** Whether the agent of `record` still runs (its pid alive and, where known, not reused). */
  isLive(record: AgentRecord): boolean {
    if (!this.probe.alive(record.pid)) return false;
    if (record.procStart === null) return true;
    const now = this.probe.startTime(record.pid);
    return now === null || now === record.procStart;
  }

  private ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new HarrowError('INVALID_CONFIG', `cannot make the agents' directory ${this.dir} (HARROW_AGENTS_DIR): ${(err as Error).message}`, { cause: err });
    }
    const stat = lstatSync(this.dir);
    const uid = process.getuid?.();
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
      throw new HarrowError(
        'INVALID_CONFIG',
        `the agents' directory ${this.dir} must be a directory of yours that no one else can write (it is ${stat.isDirectory() ? `owned by uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}` : 'not a directory'}); set HARROW_AGENTS_DIR to one`,
      );
    }
  }
}

/** The agents `selection` names (all of them without one); a clear error when it names none. */
export function selectAgents(records: readonly AgentRecord[], selection: AgentSelection): AgentRecord[] {
  const chosen = records.filter((r) => (selection.agentId === undefined || r.agentId === selection.agentId) && (selection.pid === undefined || r.pid === selection.pid));
  if (chosen.length === 0 && records.length > 0 && (selection.agentId !== undefined || selection.pid !== undefined)) {
    const asked = selection.agentId !== undefined ? `--agent ${selection.agentId}` : `--pid ${selection.pid}`;
    const known = records.map((r) => `${r.agentId} (pid ${r.pid})`).join(', ');
    throw new HarrowError('INVALID_REQUEST', `no agent running here matches ${asked}; the agents running here are ${known}`);
  }
  return chosen;
}

function readRecord(file: string): AgentRecord | null {
  try {
    const parsed = AgentRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone (another reader cleaned it, or the agent removed it meanwhile).
  }
}
