/**
 * One duration parser for every duration flag (issue 15): `doctor --timeout 5s` is accepted as
 * healthcheck's is, and `api fetch x509 --timeout` refuses what is no duration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseDurationFlag } from '../../src/cli/cli-options';
import { UsageError } from '../../src/cli/usage-error';
import { meshid } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertUsageError, freePort } from './support/contract';

describe('parseDurationFlag', () => {
  test('a Go-style duration or a bare number of seconds, in ms', () => {
    assert.equal(parseDurationFlag('--timeout', '5s'), 5_000);
    assert.equal(parseDurationFlag('--timeout', '1m30s'), 90_000);
    assert.equal(parseDurationFlag('--timeout', '250ms'), 250);
    assert.equal(parseDurationFlag('--timeout', '2'), 2_000);
    assert.equal(parseDurationFlag('--timeout', '0.5'), 500);
  });

  test('anything else, and zero, is a usage error naming the flag and the value', () => {
    for (const bad of ['soon', '0', '0s', '-5s', '5 s', '']) {
      assert.throws(() => parseDurationFlag('--timeout', bad), (error: unknown) => error instanceof UsageError && error.message === `--timeout must be a duration such as 5s, got "${bad}"`, bad);
    }
  });
});

describe('every verb with --timeout uses it', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('meshid-cli-durations-');
  });
  after(removeTempDirs);

  test('doctor --connect --timeout 5s is accepted (it wanted bare seconds before)', async () => {
    const result = await meshid(['doctor', '--connect', `127.0.0.1:${await freePort()}`, '--timeout', '5s'], { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /connect\.failed/);
  });

  test('doctor and api fetch x509 refuse a --timeout that is no duration with the same message', async () => {
    for (const words of [['doctor', '--connect', '127.0.0.1:1'], ['api', 'fetch', 'x509', '--socket', 'none.sock']]) {
      assertUsageError(await meshid([...words, '--timeout', 'soon'], { cwd: dir }), /^meshid: --timeout must be a duration such as 5s, got "soon"$/);
    }
  });

  test('api fetch x509 --timeout 1m is accepted', async () => {
    const result = await meshid(['api', 'fetch', 'x509', '--socket', 'none.sock', '--timeout', '1m'], { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^meshid: fetch from .*none\.sock failed: UNAVAILABLE/);
  });
});
