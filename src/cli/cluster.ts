import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Refusal } from '../server/data-dir.ts';
import { freePorts } from '../shared/free-ports.ts';

/**
 * `obkit cluster`: the production topology on one machine, for trying and testing. nginx (Debian's, run as
 * the current user with its own prefix) terminates TLS and mutual TLS in front of N obkit sandbox instances
 * in proxy mode on one PostgreSQL database, all naming the same public URLs. nginx's configuration is
 * rendered from deploy/nginx, the files a real deployment uses.
 */

export interface ClusterOptions {
  instances: number;
  /** PostgreSQL: every instance shares it (the embedded database belongs to one process). */
  databaseUrl: string;
  /** PKI and directory keys shared by the instances; a new temporary one (removed at stop) by default. */
  dataDir?: string;
  publicHost?: string;
  /** The ports nginx listens on; free ones by default. */
  browserPort?: number;
  mtlsPort?: number;
  /** Environment given to every instance besides what the cluster sets. */
  env?: Record<string, string>;
  nginx?: string;
  /** nginx's worker processes: `auto` (one per core) by default; 1 makes its round robin strictly in turn. */
  nginxWorkers?: number | 'auto';
  /** Whether nginx logs each request, with the instance that answered, to `access.log` (JSON lines). */
  accessLog?: boolean;
  /** Where each instance's and nginx's output goes; by default each keeps its last lines for errors. */
  onOutput?: (source: string, line: string) => void;
}

export interface ClusterInstance {
  readonly index: number;
  readonly browserPort: number;
  readonly mtlsPort: number;
  /** The process id while running. */
  readonly pid: number | undefined;
  readonly running: boolean;
}

export interface Cluster {
  /** What TPPs and browsers use: nginx. */
  urls: { browser: string; mtls: string };
  dataDir: string;
  /** nginx's prefix: nginx.conf, obkit.conf, error.log, access.log. */
  nginxDir: string;
  /** The sandbox root CA (PEM) that issued the server certificate and the TPPs' certificates. */
  rootCaFile: string;
  instances: readonly ClusterInstance[];
  /** Which instance answered, from the `obkit-upstream` header the cluster's nginx adds (undefined: none). */
  instanceAt(upstreamAddress: string | undefined): number | undefined;
  /**
   * Sends a signal to one instance and waits for it to exit (SIGKILL: no drain; SIGTERM: it drains), with
   * how it exited; undefined when it was not running.
   */
  kill(index: number, signal?: NodeJS.Signals): Promise<InstanceExit | undefined>;
  /**
   * Has nginx send requests only to these instances (its configuration rewritten and reloaded; the others
   * keep running). nginx's old workers finish what they hold, so the change shows within a few requests.
   */
  useInstances(indices: readonly number[]): void;
  /** Starts a stopped instance again, on its ports, and waits until it is ready. */
  restart(index: number): Promise<void>;
  /** Stops nginx and every instance gracefully (SIGTERM: they drain), then removes what it created. */
  stop(): Promise<void>;
}

/** How a process ended: its exit code, or the signal that ended it. */
export interface InstanceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The address nginx connects to the instances from, the only one they believe Client-Cert from. */
export const PROXY_ADDRESS = '127.0.0.2';
/** The response header naming the instance (its address) that answered, set by the cluster's nginx only. */
export const UPSTREAM_HEADER = 'obkit-upstream';

const DEPLOY = fileURLToPath(new URL('../../deploy/nginx/', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const READY_LINE = / ready in /;
const STOP_TIMEOUT_MS = 20_000;

/** The cluster cannot start as asked; the message says why (exit 2 for a bad argument). */
export class ClusterError extends Refusal {
  override name = 'ClusterError';
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const nginx = options.nginx ?? '/usr/sbin/nginx';
  if (!existsSync(nginx)) {
    throw new ClusterError(`${nginx} not found: install nginx (Debian: apt-get install nginx)`);
  }
  if (!Number.isInteger(options.instances) || options.instances < 1 || options.instances > 32) {
    throw new ClusterError(`--instances must be a whole number from 1 to 32; got ${options.instances}`, {
      exitCode: 2,
    });
  }
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'obkit-cluster-'));
  const nginxDir = mkdtempSync(join(tmpdir(), 'obkit-nginx-'));
  const publicHost = options.publicHost ?? 'localhost';
  const free = await freePorts(2 + 3 * options.instances);
  const take = (): number => free.shift()!;
  const browserPort = options.browserPort ?? take();
  const mtlsPort = options.mtlsPort ?? take();
  const ports = Array.from({ length: options.instances }, () => ({
    browser: take(),
    mtls: take(),
    operator: take(),
  }));
  const output = options.onOutput ?? (() => undefined);
  const sharedEnv: Record<string, string> = {
    ...options.env,
    DATABASE_URL: options.databaseUrl,
    OBKIT_DATA_DIR: dataDir,
    OBKIT_PUBLIC_HOST: publicHost,
    OBKIT_BIND_HOST: '127.0.0.1',
    OBKIT_PUBLIC_BROWSER_PORT: String(browserPort),
    OBKIT_PUBLIC_MTLS_PORT: String(mtlsPort),
    OBKIT_MTLS_MODE: 'proxy',
    OBKIT_TRUSTED_PROXIES: PROXY_ADDRESS,
    OBKIT_SANDBOX: 'true',
  };
  const instances = ports.map((port, index) => new InstanceProcess(index, port, sharedEnv, output));
  let nginxProcess: ChildProcess | undefined;
  let layout: NginxLayout | undefined;

  const stop = async (): Promise<void> => {
    const nginxExit = nginxProcess ? stopProcess(nginxProcess, 'SIGQUIT') : Promise.resolve();
    await Promise.all([nginxExit, ...instances.map((instance) => instance.stop('SIGTERM'))]);
    rmSync(nginxDir, { recursive: true, force: true });
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    // The first instance migrates the database, seeds the bank and makes the sandbox PKI in the data
    // dir; the others start together once it has.
    const [first, ...others] = instances;
    await first?.start();
    await Promise.all(others.map((instance) => instance.start()));

    const pki = join(dataDir, 'pki');
    layout = {
      nginxDir,
      publicHost,
      browserPort,
      mtlsPort,
      instances: ports,
      tlsCert: join(pki, 'server.pem'),
      tlsKey: join(pki, 'server.key.pem'),
      clientCa: join(pki, 'root-ca.pem'),
      upstreamCa: join(pki, 'root-ca.pem'),
      workers: options.nginxWorkers ?? 'auto',
      accessLog: options.accessLog ?? true,
    };
    const rendered = renderNginx(layout);
    const test = spawnSync(
      nginx,
      ['-t', '-q', '-p', nginxDir, '-c', rendered, '-e', join(nginxDir, 'error.log')],
      {
        encoding: 'utf8',
      },
    );
    if (test.status !== 0) throw new ClusterError(`nginx refused its configuration:\n${test.stderr}`);
    nginxProcess = spawn(nginx, ['-p', nginxDir, '-c', rendered, '-e', join(nginxDir, 'error.log')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    forwardLines(nginxProcess, 'nginx', output);
    await waitForPort(browserPort, nginxProcess);
    await waitForPort(mtlsPort, nginxProcess);
  } catch (error) {
    await stop();
    throw error;
  }

  const byAddress = new Map<string, number>(ports.map((port, index) => [`127.0.0.1:${port.browser}`, index]));
  ports.forEach((port, index) => byAddress.set(`127.0.0.1:${port.mtls}`, index));
  const base = (port: number) => `https://${publicHost}:${port}`;
  return {
    urls: { browser: base(browserPort), mtls: base(mtlsPort) },
    dataDir,
    nginxDir,
    rootCaFile: join(dataDir, 'pki', 'root-ca.pem'),
    instances,
    instanceAt(upstreamAddress) {
      // After a failed try nginx lists every upstream it asked (`a, b`): the last one answered.
      const last = upstreamAddress
        ?.split(/,\s*|\s+:\s+/)
        .at(-1)
        ?.trim();
      return last === undefined ? undefined : byAddress.get(last);
    },
    async kill(index, signal = 'SIGKILL') {
      return instanceOf(instances, index).stop(signal);
    },
    useInstances(indices) {
      if (!layout || !nginxProcess) throw new ClusterError('nginx is not running');
      indices.forEach((index) => instanceOf(instances, index));
      renderNginx({ ...layout, instances: ports.filter((_port, index) => indices.includes(index)) });
      nginxProcess.kill('SIGHUP');
    },
    async restart(index) {
      await instanceOf(instances, index).start();
    },
    stop,
  };
}

function instanceOf(instances: readonly InstanceProcess[], index: number): InstanceProcess {
  const instance = instances[index];
  if (!instance) throw new ClusterError(`no instance ${index}: the cluster has ${instances.length}`);
  return instance;
}

class InstanceProcess implements ClusterInstance {
  readonly index: number;
  readonly browserPort: number;
  readonly mtlsPort: number;
  #child: ChildProcess | undefined;
  readonly #env: Record<string, string>;
  readonly #output: (source: string, line: string) => void;

  constructor(
    index: number,
    ports: { browser: number; mtls: number; operator: number },
    env: Record<string, string>,
    output: (source: string, line: string) => void,
  ) {
    this.index = index;
    this.browserPort = ports.browser;
    this.mtlsPort = ports.mtls;
    this.#env = {
      ...env,
      OBKIT_BROWSER_PORT: String(ports.browser),
      OBKIT_MTLS_PORT: String(ports.mtls),
      OBKIT_OPERATOR_PORT: String(ports.operator),
    };
    this.#output = output;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn(process.execPath, [MAIN, 'sandbox'], {
      env: { ...process.env, ...this.#env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C at the terminal reaches the cluster, which stops each in turn.
      detached: true,
    });
    this.#child = child;
    const source = `instance ${this.index}`;
    const recent: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(
          new ClusterError(
            `${source} exited before it was ready (${signal ?? `exit code ${String(code)}`}):\n${recent.join('\n')}`,
          ),
        );
      child.once('exit', onExit);
      forwardLines(child, source, (from, line) => {
        recent.push(line);
        if (recent.length > 40) recent.shift();
        this.#output(from, line);
        if (READY_LINE.test(line)) {
          child.off('exit', onExit);
          resolve();
        }
      });
    });
  }

  async stop(signal: NodeJS.Signals): Promise<InstanceExit | undefined> {
    return this.#child && this.running ? stopProcess(this.#child, signal) : undefined;
  }
}

/** Signals a child and waits for it to exit; SIGKILL after STOP_TIMEOUT_MS. */
async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<InstanceExit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return { code: child.exitCode, signal: child.signalCode };
  }
  const exited = new Promise<InstanceExit>((resolve) =>
    child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal })),
  );
  child.kill(signal);
  const overrun = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const exit = await exited;
  clearTimeout(overrun);
  return exit;
}

function forwardLines(child: ChildProcess, source: string, onLine: (source: string, line: string) => void) {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(source, line);
    });
  }
}

interface NginxLayout {
  nginxDir: string;
  publicHost: string;
  browserPort: number;
  mtlsPort: number;
  instances: readonly { browser: number; mtls: number }[];
  tlsCert: string;
  tlsKey: string;
  clientCa: string;
  upstreamCa: string;
  workers: number | 'auto';
  accessLog: boolean;
}

/** Fills a deploy/nginx template's @NAME@ placeholders; a placeholder left unfilled is an error. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const text = template.replace(/@([A-Z_]+)@/g, (whole, name: string) => values[name] ?? whole);
  const left = text.match(/@[A-Z_]+@/g);
  if (left) throw new ClusterError(`unfilled nginx template placeholders: ${[...new Set(left)].join(', ')}`);
  return text;
}

/** Writes nginx.conf (this user's nginx: its own pid, logs, temp dirs) and the deploy files; returns nginx.conf. */
function renderNginx(layout: NginxLayout): string {
  const dir = layout.nginxDir;
  const temp = join(dir, 'temp');
  mkdirSync(temp, { recursive: true });
  // max_fails=1: one failed try leaves the instance out for fail_timeout (passive health, see deploy/).
  const servers = (port: (instance: { browser: number; mtls: number }) => number) =>
    layout.instances
      .map((instance) => `    server 127.0.0.1:${port(instance)} max_fails=1 fail_timeout=5s;`)
      .join('\n');
  const values = {
    PROXY_ADDRESS,
    PUBLIC_HOST: layout.publicHost,
    BROWSER_LISTEN: `127.0.0.1:${layout.browserPort}`,
    MTLS_LISTEN: `127.0.0.1:${layout.mtlsPort}`,
    BROWSER_SERVERS: servers((instance) => instance.browser),
    MTLS_SERVERS: servers((instance) => instance.mtls),
    TLS_CERT: layout.tlsCert,
    TLS_KEY: layout.tlsKey,
    CLIENT_CA: layout.clientCa,
    UPSTREAM_CA: layout.upstreamCa,
    UPSTREAM_NAME: 'localhost',
    CLIENT_CERT_MAP: join(DEPLOY, 'client-cert.conf'),
    PROXY_COMMON: join(dir, 'proxy-common.conf'),
  };
  for (const name of ['obkit.conf', 'proxy-common.conf']) {
    writeFileSync(
      join(dir, name),
      fillTemplate(readFileSync(join(DEPLOY, `${name}.template`), 'utf8'), values),
    );
  }
  const main = join(dir, 'nginx.conf');
  writeFileSync(
    main,
    [
      'daemon off;',
      `worker_processes ${layout.workers};`,
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      ...(layout.accessLog
        ? [
            `    log_format obkit escape=json '{"method":"$request_method","uri":"$request_uri","status":$status,"upstream":"$upstream_addr"}';`,
            `    access_log ${join(dir, 'access.log')} obkit;`,
          ]
        : ['    access_log off;']),
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (kind) => `    ${kind}_temp_path ${join(temp, kind)};`,
      ),
      // Which instance answered: for trying the cluster and its tests; the deploy files never add it.
      `    add_header ${UPSTREAM_HEADER} $upstream_addr always;`,
      `    include ${join(dir, 'obkit.conf')};`,
      '}',
      '',
    ].join('\n'),
  );
  return main;
}

/** Until nginx accepts connections on the port (it binds before it forks its workers). */
async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (child.exitCode !== null) throw new ClusterError(`nginx exited (code ${child.exitCode}) on start`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new ClusterError(`nginx did not listen on port ${port}`);
}
