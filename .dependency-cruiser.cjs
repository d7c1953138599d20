/**
 * The layer order of src/ (docs/ARCHITECTURE.md, "Layers"), lowest first. A module may import
 * its own layer and any layer below it, never one above it and never a sibling on the same
 * rank; there are no cycles at all. Run by `npm run lint` (and so by `npm test`).
 */
const LAYERS = [
  // generated: message types from proto-loader-gen-types (npm run gen:proto), imported by the layers that speak the protos.
  ['common', 'generated'],
  ['identity'],
  ['entries'],
  ['upstream'],
  ['rotation'],
  ['jwt', 'attestation', 'spire'],
  ['serving'],
  ['workload-api', 'sds', 'files'],
  ['telemetry'],
  ['agent'],
  ['cli'],
];

const folder = (name) => `^src/${name}/`;
const layerRules = LAYERS.flatMap((rank, index) =>
  rank.map((name) => {
    const above = LAYERS.slice(index + 1).flat();
    const siblings = rank.filter((other) => other !== name);
    return {
      name: `no-upward-from-${name}`,
      comment: `src/${name} may not import ${[...siblings, ...above].join(', ')} (a sibling or a higher layer)`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: [...siblings, ...above].map(folder).join('|') || '^$' },
    };
  }),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      // google.protobuf.Struct/Value/ListValue are recursive in the proto itself, so their generated types import each other.
      comment: 'import cycles hide the layer order',
      severity: 'error',
      from: { pathNot: '^src/generated/' },
      to: { circular: true },
    },
    {
      name: 'no-unlayered-src',
      comment: 'every module in src/ belongs to a layer of .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.flat().join('|')})/` },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|build|node_modules)/' },
  },
};
