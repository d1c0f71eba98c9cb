/**
 * The layering of the product code, checked by test/repo/layering.test.ts (so `npm test` fails on a
 * violation) and by hand with `npx depcruise connector registry repository`.
 *
 * The direction is connector → repository → registry: the registry is the core and knows nothing
 * of the repository actor or of the transport, and the repository actor knows the registry only,
 * never the connector that serves it over SOAP/HTTP. Product code never reaches into the tests,
 * the developer scripts or the test data, so that the built node (dist/) carries none of them.
 *
 * There is no rule against import cycles yet: the product code has some today (registry/xml
 * tree ↔ serialize, connector/transactions context ↔ policy, connector/audit store ↔ access-log and
 * store ↔ store-mongo/store-embedded). A no-circular rule belongs here once they are gone.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'registry-is-the-core',
      comment: 'registry/ imports neither connector/ nor repository/: both build on it, not the other way round.',
      severity: 'error',
      from: { path: '^registry/' },
      to: { path: '^(connector|repository)/' },
    },
    {
      name: 'repository-below-connector',
      comment: 'repository/ does not import connector/: the transport layer wires the actor, the actor does not know it.',
      severity: 'error',
      from: { path: '^repository/' },
      to: { path: '^connector/' },
    },
    {
      name: 'product-not-on-dev-code',
      comment: 'Product code does not import tests, developer scripts or test data: none of them ship in dist/.',
      severity: 'error',
      from: { path: '^(connector|registry|repository)/' },
      to: { path: '^(test|scripts|fixtures)/' },
    },
    {
      name: 'resolvable',
      comment: 'Every import resolves: an import the cruiser cannot follow is one no rule above can check.',
      severity: 'error',
      from: { path: '^(connector|registry|repository)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // The product's own code only; packages are other people's layering.
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
