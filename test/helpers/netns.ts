/**
 * Test hosts as Linux network namespaces (`ip netns`, iproute2), joined by veth pairs to a bridge
 * that lives in a namespace of its own: nothing is added to the machine's own network stack, and
 * deleting the namespaces removes every interface. Every name starts with `hrw-<pid>-`, so a run
 * cleans up after itself and the next run removes what a crashed run (dead pid) left behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

const SUBNET = '10.250.0';

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function namespaces(): string[] {
  return ip(['netns', 'list'])
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills every process in the namespace, then deletes it (its interfaces go with it). */
function removeNamespace(name: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter((p) => p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  spawnSync('ip', ['netns', 'del', name]);
}

/** Why namespaces cannot be made here (no `ip`, not permitted), or null. */
export function netnsProblem(): string | null {
  const probe = `hrw-${process.pid}-probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error) return `cannot run ip (apt-get install iproute2): ${r.error.message}`;
  if (r.status !== 0) return `ip netns add is not permitted here (needs root or CAP_SYS_ADMIN): ${r.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

/** Removes the namespaces of earlier runs whose process is gone. */
export function removeLeftovers(): string[] {
  const removed: string[] = [];
  for (const name of namespaces()) {
    const m = /^hrw-(\d+)-/.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) {
      removeNamespace(name);
      removed.push(name);
    }
  }
  return removed;
}

export interface Host {
  /** Role in the test: `db`, `c1`, `a3`... */
  role: string;
  ns: string;
  addr: string;
  /** The bridge end of its veth pair (in the bridge namespace): down = cut off the network. */
  bridgePort: string;
}

export class Network {
  readonly prefix = `hrw-${process.pid}-`;
  readonly bridgeNs = `${this.prefix}br`;
  private readonly hosts = new Map<string, Host>();

  constructor() {
    ip(['netns', 'add', this.bridgeNs]);
    ip(['-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', this.bridgeNs, 'link', 'set', 'br0', 'up']);
  }

  /** A host on the bridge at 10.250.0.<octet>. */
  addHost(role: string, octet: number): Host {
    const ns = `${this.prefix}${role}`;
    const bridgePort = `v-${role}`;
    ip(['netns', 'add', ns]);
    ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    ip(['-n', this.bridgeNs, 'link', 'add', bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    ip(['-n', this.bridgeNs, 'link', 'set', bridgePort, 'master', 'br0']);
    ip(['-n', this.bridgeNs, 'link', 'set', bridgePort, 'up']);
    const addr = `${SUBNET}.${octet}`;
    ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    const host = { role, ns, addr, bridgePort };
    this.hosts.set(role, host);
    return host;
  }

  /** Pulls the host's cable: its packets go nowhere, its TCP connections stall (no reset). */
  cut(host: Host): void {
    ip(['-n', this.bridgeNs, 'link', 'set', host.bridgePort, 'down']);
  }

  reconnect(host: Host): void {
    ip(['-n', this.bridgeNs, 'link', 'set', host.bridgePort, 'up']);
  }

  /** Runs a command inside the host's namespace. */
  spawn(host: Host, command: string, args: string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): ChildProcess {
    return spawn('ip', ['netns', 'exec', host.ns, command, ...args], { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  runSync(host: Host, command: string, args: string[], env?: Record<string, string | undefined>): string {
    const r = spawnSync('ip', ['netns', 'exec', host.ns, command, ...args], { encoding: 'utf8', env: env ?? process.env });
    if (r.status !== 0) throw new Error(`${command} in ${host.ns} failed (${r.status ?? r.signal}): ${r.stderr}`);
    return r.stdout;
  }

  /** Kills everything running in the namespaces and deletes them. */
  destroy(): void {
    for (const h of this.hosts.values()) removeNamespace(h.ns);
    removeNamespace(this.bridgeNs);
    this.hosts.clear();
  }
}
