// Hosts as network namespaces (we run as root), for the cluster tests and benchmarks: storage agents, each in
// a namespace of its own behind a veth pair, and the coordinator in one more namespace that holds the bridge,
// so that every address used is inside a namespace made here (<subnet>.0/24) and removed by destroy(). The
// coordinator is reached from outside through a Unix socket that a small forwarder inside its namespace passes
// on to its port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'src', 'cli.js');

/** The port every agent listens on, at its namespace's address. */
export const AGENT_PORT = 7433;

const FORWARDER = `
const net = require('node:net');
const [path, port] = process.argv.slice(1);
net.createServer((c) => {
  const u = net.connect(Number(port), '127.0.0.1');
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
}).listen(path, () => console.log('forwarding'));`;

export function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

export class NetnsHosts {
  readonly coordNs: string;
  private readonly bridge: string;
  private readonly children: ChildProcess[] = [];

  /**
   * `tag`: a short string that makes the names unique to this run (a pid); `subnet`: the first three octets
   * of the private /24 the namespaces use.
   */
  constructor(
    private readonly tag: string,
    readonly subnet: string,
    readonly agents: number,
  ) {
    this.coordNs = `segt${tag}c`;
    this.bridge = `stb${tag}`;
  }

  agentNs(i: number): string {
    return `segt${this.tag}a${i}`;
  }

  agentAddr(i: number): string {
    return `${this.subnet}.${10 + i}`;
  }

  /** host:port of agent i, as CREATE NODE ... ADDRESS names it. */
  agentAddress(i: number, port = AGENT_PORT): string {
    return `${this.agentAddr(i)}:${port}`;
  }

  inNs(ns: string, ...args: string[]): void {
    ip('netns', 'exec', ns, ...args);
  }

  /** The namespaces, the bridge in the coordinator's, and one veth pair per agent onto it. */
  create(): void {
    this.destroy();
    const c = this.coordNs;
    ip('netns', 'add', c);
    this.inNs(c, 'ip', 'link', 'set', 'lo', 'up');
    this.inNs(c, 'ip', 'link', 'add', this.bridge, 'type', 'bridge');
    this.inNs(c, 'ip', 'addr', 'add', `${this.subnet}.1/24`, 'dev', this.bridge);
    this.inNs(c, 'ip', 'link', 'set', this.bridge, 'up');
    for (let i = 1; i <= this.agents; i++) {
      const ns = this.agentNs(i);
      const peer = `p${this.tag}x${i}`;
      ip('netns', 'add', ns);
      this.inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      // The pair is made inside the agent's namespace; its peer moves to the coordinator's, onto the bridge.
      this.inNs(ns, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', peer);
      this.inNs(ns, 'ip', 'link', 'set', peer, 'netns', c);
      this.inNs(c, 'ip', 'link', 'set', peer, 'master', this.bridge, 'up');
      this.inNs(ns, 'ip', 'addr', 'add', `${this.agentAddr(i)}/24`, 'dev', 'eth0');
      this.inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    }
  }

  /** Cuts (or restores) agent i's link. */
  setLink(i: number, up: boolean): void {
    this.inNs(this.agentNs(i), 'ip', 'link', 'set', 'eth0', up ? 'up' : 'down');
  }

  /** Starts a command inside a namespace; it is killed by destroy(). */
  spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    return child;
  }

  /** Starts node with `args` inside a namespace and waits for its output to match `ready`. */
  startIn(
    ns: string,
    args: string[],
    ready: RegExp,
    env: Record<string, string> = {},
  ): Promise<{ match: RegExpExecArray; child: ChildProcess; output: () => string }> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    this.children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not started in ${ns}: ${out}`)), 30_000);
      child.stdout!.on('data', () => {
        const match = ready.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve({ match, child, output: () => out });
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} in ${ns}: ${out}`));
      });
    });
  }

  /** `segtasks agent` in agent i's namespace, on its address; `extra`: more options (--tls-cert ...). */
  async startAgent(
    i: number,
    secretFile: string,
    extra: string[] = [],
    port = AGENT_PORT,
  ): Promise<ChildProcess> {
    const { child } = await this.startIn(
      this.agentNs(i),
      [
        CLI,
        'agent',
        '--listen',
        this.agentAddress(i, port),
        '--secret-file',
        secretFile,
        '--log-level',
        'warn',
        ...extra,
      ],
      /agent listening on/,
    );
    return child;
  }

  /**
   * `segtasks serve` in the coordinator's namespace (`args`: its options after --port/--no-http/--no-demo), and
   * the forwarder of a Unix socket in `sockDir` to its port; returns the pg connection settings to reach it.
   */
  async startCoordinator(
    sockDir: string,
    args: string[],
    adminPassword: string,
    env: Record<string, string> = {},
  ): Promise<{
    child: ChildProcess;
    /** Everything it printed (its JSON log is on stderr). */
    output: () => string;
    forwarder: ChildProcess;
    pgConfig: { host: string; port: number; user: string; password: string; database: string };
  }> {
    const { match, child, output } = await this.startIn(
      this.coordNs,
      [CLI, 'serve', '--port', '0', '--no-http', '--no-demo', ...args],
      /listening on 127\.0\.0\.1:(\d+)/,
      { SEGTASKS_ADMIN_PASSWORD: adminPassword, ...env },
    );
    mkdirSync(sockDir, { recursive: true });
    const fwd = await this.startIn(
      this.coordNs,
      ['-e', FORWARDER, join(sockDir, '.s.PGSQL.5433'), match[1]],
      /forwarding/,
    );
    return {
      child,
      output,
      forwarder: fwd.child,
      pgConfig: { host: sockDir, port: 5433, user: 'admin', password: adminPassword, database: 'segtasks' },
    };
  }

  /** Kills a process started here and waits for it to be gone. */
  async kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  }

  /** Kills everything started here and removes the namespaces (with them, every veth and the bridge). */
  destroy(): void {
    for (const c of this.children) c.kill('SIGKILL');
    this.children.length = 0;
    for (const ns of [this.coordNs, ...Array.from({ length: this.agents }, (_, i) => this.agentNs(i + 1))]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created
      }
    }
  }
}
