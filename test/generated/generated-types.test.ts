import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PROTO_DIR, PROTO_LOADER_OPTIONS } from '../../src/common/proto-files';

// src/generated/ is committed output of `npm run gen:proto`; these tests keep it from going stale
// and keep its shape options from drifting away from the ones the agent loads protos with.
const ROOT = path.dirname(PROTO_DIR);
const GENERATED_DIR = 'src/generated';
const GENERATOR = require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');

function genProtoArgs(): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string | undefined> };
  const [command, ...args] = (manifest.scripts['gen:proto'] ?? '').split(/\s+/);
  assert.equal(command, 'proto-loader-gen-types');
  return args;
}

/** The generator flag that produces the same object shape as one runtime loader option. */
function flagsFor(name: string, value: unknown): string[] {
  if (name === 'includeDirs') return (value as string[]).map((dir) => `--includeDirs=${path.relative(ROOT, dir)}`);
  if (value === true) return [`--${name}`];
  if (typeof value === 'function') return [`--${name}=${value.name}`];
  throw new Error(`no generator flag known for loader option ${name}=${String(value)}`);
}

function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((file) => fs.statSync(path.join(dir, file)).isFile()).sort();
}

test('gen:proto types messages with the loader options the agent uses (PROTO_LOADER_OPTIONS), and no others', () => {
  const expected = Object.entries(PROTO_LOADER_OPTIONS).flatMap(([name, value]) => flagsFor(name, value)).sort();
  const shaping = genProtoArgs()
    .filter((arg) => arg.startsWith('--') && !arg.startsWith('--outDir=') && !arg.startsWith('--grpcLib='))
    .sort();
  assert.deepEqual(shaping, expected);
});

test(`${GENERATED_DIR}/ is exactly what gen:proto makes of proto/ (after changing either, run \`npm run gen:proto\`)`, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'meshid-gen-proto-'));
  try {
    const args = genProtoArgs().map((arg) => (arg.startsWith('--outDir=') ? `--outDir=${out}` : arg));
    assert.ok(genProtoArgs().includes(`--outDir=${GENERATED_DIR}`), `gen:proto writes to ${GENERATED_DIR}`);
    execFileSync(process.execPath, [GENERATOR, ...args], { cwd: ROOT, stdio: 'pipe' });
    const committed = path.join(ROOT, GENERATED_DIR);
    assert.deepEqual(filesUnder(committed), filesUnder(out), 'the same files');
    for (const file of filesUnder(out)) {
      assert.equal(fs.readFileSync(path.join(committed, file), 'utf8'), fs.readFileSync(path.join(out, file), 'utf8'), `${GENERATED_DIR}/${file} is stale`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
