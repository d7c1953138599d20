import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PROTO_DIR } from '../../src/common/proto-files';
import { copyParts, dockerignoreExcludes, dockerignorePatterns, execForm, healthcheckCommand, parseDockerfile } from './support/dockerfile';
import { REPO, repoFile } from './support/repo-files';

// No Docker engine runs here, so the image is checked by what decides whether it builds and
// starts: every COPY source is in the build context, and what `meshid run` loads at run time
// (the entrypoint script, the native addon, the protos) is copied to where the code looks.
const instructions = parseDockerfile(repoFile('Dockerfile'));
const ignored = dockerignorePatterns(repoFile('.dockerignore'));
const stages = Math.max(...instructions.map((instruction) => instruction.stage)) + 1;
const runtimeStage = stages - 1;
const inStage = (stage: number, keyword: string): string[] => instructions.filter((instruction) => instruction.stage === stage && instruction.keyword === keyword).map((instruction) => instruction.args);
const packageJson = JSON.parse(repoFile('package.json')) as { bin: Record<string, string> };

/** The image path of a file inside the repository, given the runtime WORKDIR. */
function runtimeWorkdir(): string {
  const workdirs = inStage(runtimeStage, 'WORKDIR');
  assert.equal(workdirs.length, 1, 'the runtime stage sets one WORKDIR');
  return workdirs[0] as string;
}

/** Destinations (absolute, in the image) of the runtime stage's COPY --from=build. */
function runtimeCopies(): string[] {
  return inStage(runtimeStage, 'COPY').map((args) => path.posix.resolve(runtimeWorkdir(), copyParts(args).destination));
}

test('two stages on node:20-bookworm-slim: a builder with a C toolchain, and the runtime', () => {
  assert.equal(stages, 2);
  assert.match(inStage(0, 'FROM')[0] ?? '', /^node:20-bookworm-slim AS build$/);
  assert.match(inStage(1, 'FROM')[0] ?? '', /^node:20-bookworm-slim$/);
  const install = inStage(0, 'RUN').join('\n');
  for (const tool of ['python3', 'make', 'g++']) assert.match(install, new RegExp(`apt-get install[^\\n]*\\s${tool.replace('+', '\\+')}(\\s|$)`), tool);
  assert.match(install, /npm ci/);
  assert.match(install, /npm run build/);
  assert.match(install, /npm prune --omit=dev/);
  assert.deepEqual(inStage(1, 'RUN'), [], 'the runtime stage installs nothing');
});

test('every COPY source from the build context exists and is not excluded by .dockerignore', () => {
  const sources = instructions.filter((instruction) => instruction.keyword === 'COPY' && copyParts(instruction.args).from === undefined).flatMap((instruction) => copyParts(instruction.args).sources);
  assert.ok(sources.length >= 5, `only ${sources.length} COPY sources`);
  for (const source of sources) {
    assert.ok(existsSync(path.join(REPO, source)), `COPY ${source}: not in the repository`);
    assert.equal(dockerignoreExcludes(ignored, source), false, `COPY ${source}: excluded by .dockerignore`);
  }
});

test('.dockerignore keeps host builds out of the context (native addon, node_modules, dist)', () => {
  for (const built of ['node_modules/yaml/package.json', 'build/Release/peer_credentials.node', 'dist/src/cli/main.js']) {
    assert.equal(dockerignoreExcludes(ignored, built), true, built);
  }
});

test('ENTRYPOINT runs the package bin "meshid": meshid run --config /etc/meshid/meshid.yaml', () => {
  const entrypoint = execForm(inStage(runtimeStage, 'ENTRYPOINT')[0] ?? '');
  const bin = path.posix.join(runtimeWorkdir(), packageJson.bin.meshid ?? '<no bin>');
  assert.deepEqual(entrypoint, ['node', bin, 'run', '--config', '/etc/meshid/meshid.yaml']);
  // The image gets dist/src from the builder; the compiled bin must be under it.
  assert.ok(runtimeCopies().some((destination) => bin.startsWith(`${destination}/`)), `${bin} is not copied into the image`);
  assert.ok(existsSync(path.join(REPO, packageJson.bin.meshid ?? '')), 'the bin is not where the build puts it');
});

test('the native addon and the protos land where the compiled code loads them from', () => {
  const workdir = runtimeWorkdir();
  const copies = runtimeCopies();
  // src/attestation/peer-credentials.ts loads build/Release/peer_credentials.node from the package root.
  const addon = path.posix.join(workdir, 'build', 'Release', 'peer_credentials.node');
  assert.ok(existsSync(path.join(REPO, 'build', 'Release', 'peer_credentials.node')), 'the addon is not built where the code loads it');
  assert.ok(copies.includes(addon), `${addon} is not copied`);
  const protoInImage = path.posix.join(workdir, path.relative(REPO, PROTO_DIR));
  assert.ok(copies.includes(protoInImage), `${protoInImage} (PROTO_DIR) is not copied`);
  assert.ok(copies.includes(path.posix.join(workdir, 'node_modules')), 'node_modules is not copied');
});

test('the HEALTHCHECK runs the same bin', () => {
  const command = healthcheckCommand(inStage(runtimeStage, 'HEALTHCHECK')[0] ?? '');
  assert.deepEqual(command?.slice(0, 3), ['node', path.posix.join(runtimeWorkdir(), packageJson.bin.meshid ?? ''), 'healthcheck']);
});
