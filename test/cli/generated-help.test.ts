/** Generated help (issue 15): on every verb and command group, listing each option of the verb. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meshid } from '../support/meshid-cli';
import { assertSuccess } from './support/contract';

const OPTIONS: Record<string, readonly string[]> = {
  run: ['-c, --config <file>'],
  'api fetch x509': ['--socket <path>', '--write <dir>', '--timeout <duration>'],
  'api fetch jwt': ['--audience <aud>', '--spiffe-id <id>', '--socket <path>', '--timeout <duration>', '--output <format>'],
  'api validate jwt': ['--audience <aud>', '--svid <token>', '--socket <path>', '--timeout <duration>', '--output <format>'],
  'api watch': ['--socket <path>', '--output <format>'],
  healthcheck: ['--socket <path>', '--timeout <duration>'],
  doctor: ['--cert <file>', '--key <file>', '--bundle <file>', '--connect <host:port>', '--servername <name>', '--now <iso-time>', '--output <format>', '--timeout <duration>'],
  'ca rotate': ['--admin <host:port>', '--output <format>'],
  'ca status': ['--admin <host:port>', '--output <format>'],
};

for (const [verb, options] of Object.entries(OPTIONS)) {
  test(`meshid ${verb} --help lists its options`, async () => {
    const result = await meshid([...verb.split(' '), '--help'], { cwd: process.cwd() });
    assertSuccess(result);
    for (const option of options) assert.ok(result.stdout.includes(option), `${option} in:\n${result.stdout}`);
  });
}

const GROUPS: Record<string, readonly string[]> = { api: ['fetch', 'validate', 'watch'], 'api fetch': ['x509', 'jwt'], 'api validate': ['jwt'], ca: ['rotate', 'status'] };
for (const [group, children] of Object.entries(GROUPS)) {
  test(`meshid ${group} --help lists its commands`, async () => {
    const result = await meshid([...group.split(' '), '--help'], { cwd: process.cwd() });
    assertSuccess(result);
    for (const child of children) assert.match(result.stdout, new RegExp(`^ {2}${child}\\b`, 'm'), `${child} in:\n${result.stdout}`);
  });
}
