/**
 * The layering of src/ (../shared/DESIGN.md, "Architecture"), checked by dependency-cruiser in
 * `npm run layers` and by test/layers.test.ts: every folder imports only from the folders listed
 * below it, type-only imports included, and no file takes part in an import cycle.
 */
/** Top to bottom, as DESIGN.md lists them; errors.ts is the ground every layer stands on. */
const LAYERS = (['cli', 'io', 'report', 'experiments', 'targets', 'metrics', 'results', 'selftest', 'system', 'testkmod', 'userspace', 'kernel', 'sim']);

const upward = LAYERS.map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only the layers below it (${LAYERS.slice(i + 1).join(', ')}, errors.ts)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: i === 0 ? '^src/(?!errors\\.ts$)[^/]+\\.ts$' : `^src/(${LAYERS.slice(0, i).join('|')})/|^src/(?!errors\\.ts$)[^/]+\\.ts$` },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'errors-is-the-ground',
      comment: 'src/errors.ts imports nothing of the project',
      severity: 'error',
      from: { path: '^src/errors\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle between files (type-only imports included)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-does-not-import-tests',
      comment: 'test-only code lives in test/, never imported by src/',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
