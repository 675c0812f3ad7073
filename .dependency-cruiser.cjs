/**
 * DESIGN.md's "knows about" column as rules: an import that points anywhere else fails the build.
 * Keep this table and DESIGN.md in step.
 */
const parts = {
  pki: [],
  store: [],
  events: ['store'],
  bank: ['store', 'events'],
  directory: ['pki', 'store'],
  jwkms: ['pki', 'directory'],
  consent: ['bank', 'store', 'events'],
  auth: ['pki', 'consent', 'store'],
  openbanking: ['auth', 'consent', 'bank', 'events'],
  // The bank's staff's console and metrics: it reads and acts on every part below the server.
  operator: ['auth', 'consent', 'bank', 'events', 'directory', 'store', 'pki', 'openbanking'],
  tpp: [],
  // The command line composes the bank side (server) and the TPP side (tpp) into one `obkit` binary.
  cli: ['server', 'tpp'],
};
const shared = ['shared'];

const forbidden = Object.entries(parts).map(([part, allowed]) => {
  const ok = [part, ...allowed, ...shared].join('|');
  return {
    name: `${part}-knows-only-${allowed.join('-') || 'itself'}`,
    severity: 'error',
    comment: `src/${part} may import only from: ${[part, ...allowed, ...shared].join(', ')} (DESIGN.md)`,
    from: { path: `^src/${part}/` },
    to: { path: '^src/', pathNot: `^src/(${ok})/` },
  };
});

module.exports = {
  forbidden: [
    ...forbidden,
    {
      name: 'shared-knows-nothing',
      severity: 'error',
      comment: 'src/shared holds helpers every part may use; it imports no part',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'tests-not-imported-by-src',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
