import { ClusterError, startCluster, UPSTREAM_HEADER } from './cluster.ts';

export interface ClusterFlags {
  instances: string;
  browserPort?: string;
  mtlsPort?: string;
  dataDir?: string;
}

/**
 * `obkit cluster`: starts nginx and the instances, prints where they are, and stops them all on Ctrl-C or
 * SIGTERM (nginx first, then the instances drain), leaving no process behind.
 */
export async function runCluster(flags: ClusterFlags): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    throw new ClusterError(
      'obkit cluster runs its instances on PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/obkit)',
      { exitCode: 2 },
    );
  }
  const port = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 1 || number > 65_535) {
      throw new ClusterError(`${name} must be a port number from 1 to 65535; got ${value}`, { exitCode: 2 });
    }
    return number;
  };
  const instances = /^\d{1,2}$/.test(flags.instances) ? Number(flags.instances) : Number.NaN;
  if (!(instances >= 1 && instances <= 32)) {
    throw new ClusterError(`--instances must be a whole number from 1 to 32; got ${flags.instances}`, {
      exitCode: 2,
    });
  }
  const browserPort = port(flags.browserPort, '--browser-port');
  const mtlsPort = port(flags.mtlsPort, '--mtls-port');
  const started = performance.now();
  const cluster = await startCluster({
    instances,
    databaseUrl,
    ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
    ...(browserPort ? { browserPort } : {}),
    ...(mtlsPort ? { mtlsPort } : {}),
    onOutput: (source, line) => {
      // The instances' JSON logs are for files; their warnings and errors are worth seeing here.
      if (source === 'nginx' || /"level":(40|50|60)/.test(line))
        process.stderr.write(`[${source}] ${line}\n`);
    },
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: stopping nginx and ${cluster.instances.length} instances…\n`);
    cluster.stop().then(
      () => {
        process.stdout.write('stopped\n');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const lines = [
    `obkit cluster ready in ${((performance.now() - started) / 1000).toFixed(2)}s: nginx in front of ${cluster.instances.length} instances on PostgreSQL`,
    `  browser (no client certificate): ${cluster.urls.browser}`,
    `  TPP endpoints (mutual TLS):      ${cluster.urls.mtls}`,
    `  OpenID discovery:                ${cluster.urls.browser}/.well-known/openid-configuration`,
    `  sandbox root CA:                 ${cluster.rootCaFile}`,
    `  nginx configuration and log:     ${cluster.nginxDir}`,
    ...cluster.instances.map(
      (instance) =>
        `  instance ${instance.index} (pid ${instance.pid ?? '?'}): https://127.0.0.1:${instance.browserPort} (browser), https://127.0.0.1:${instance.mtlsPort} (mTLS, proxy mode)`,
    ),
    `  the ${UPSTREAM_HEADER} response header names the instance that answered`,
    'Stop with Ctrl-C.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
