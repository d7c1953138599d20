/**
 * The CLI contract without an agent: top-level dispatch, help, usage errors (exit 2) and the
 * failures each verb reports when nothing answers (exit 1). Runs the compiled CLI
 * (MESHID_MAIN may point it at another build, to compare two versions).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { meshid, type CliResult } from '../support/meshid-cli';
import { makeTempDir, removeTempDirs } from '../support/temp-dir';
import { assertFailure, assertSuccess, assertUsageError, escapeRegExp, VERBS } from './support/contract';

let dir: string;
let missingSocket: string;
before(async () => {
  dir = await makeTempDir('meshid-cli-contract-');
  missingSocket = path.join(dir, 'nothing-here.sock');
});
after(removeTempDirs);

const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
  const { SPIFFE_ENDPOINT_SOCKET: _ignored, ...inherited } = process.env;
  return meshid(args, { cwd: dir, env: { ...inherited, ...env } });
};

describe('top level', () => {
  test('no arguments: the overview on stdout, exit 2', async () => {
    const result = await cli([]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /Usage/);
    for (const verb of ['run', 'api', 'doctor', 'healthcheck', 'ca']) assert.match(result.stdout, new RegExp(`\\b${verb}\\b`), verb);
  });

  for (const flag of ['--help', '-h', 'help']) {
    test(`${flag}: the overview on stdout, exit 0`, async () => {
      const result = await cli([flag]);
      assertSuccess(result);
      assert.match(result.stdout, /Usage/);
      for (const verb of ['run', 'api', 'doctor', 'healthcheck', 'ca']) assert.match(result.stdout, new RegExp(`\\b${verb}\\b`), verb);
    });
  }

  const unknown: string[][] = [['frobnicate'], ['api'], ['api', 'fetch'], ['api', 'fetch', 'pem'], ['api', 'validate'], ['ca'], ['ca', 'explode']];
  for (const words of unknown) {
    test(`unknown command "${words.join(' ')}": exit 2`, async () => {
      assertUsageError(await cli(words), new RegExp(`^meshid: unknown command "${words.join(' ')}"$`));
    });
  }

  test('an option where a command belongs: exit 2', async () => {
    const result = await cli(['--bogus']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^meshid: /);
  });
});

describe('every verb', () => {
  for (const { words, valueFlag } of VERBS) {
    const verb = words.join(' ');
    test(`${verb} --help and -h: its usage on stdout, exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const result = await cli([...words, flag]);
        assertSuccess(result);
        assert.match(result.stdout, new RegExp(`Usage: meshid ${verb}\\b`));
      }
    });

    test(`${verb} --bogus: unknown option, exit 2`, async () => {
      assertUsageError(await cli([...words, '--bogus']), /^meshid: Unknown option '--bogus'/);
    });

    test(`${verb} with a stray argument: exit 2`, async () => {
      assertUsageError(await cli([...words, 'stray']), /^meshid: Unexpected argument 'stray'/);
    });

    test(`${verb} ${valueFlag} without its value: exit 2`, async () => {
      assertUsageError(await cli([...words, valueFlag]), new RegExp(`^meshid: Option '(-\\w, )?${valueFlag}.*' argument missing`));
    });
  }
});

describe('--timeout takes a duration', () => {
  const verbs: string[][] = [['healthcheck'], ['api', 'fetch', 'jwt', '--audience', 'a'], ['api', 'validate', 'jwt', '--audience', 'a', '--svid', 't']];
  for (const words of verbs) {
    test(`${words.slice(0, 3).join(' ')}: "soon" and "0" are usage errors; "1m30s" and a bare "2" are accepted`, async () => {
      for (const bad of ['soon', '0']) {
        assertUsageError(await cli([...words, '--socket', missingSocket, '--timeout', bad]), new RegExp(`^meshid: --timeout must be a duration such as 5s, got "${bad}"$`));
      }
      for (const good of ['1m30s', '2']) {
        const result = await cli([...words, '--socket', missingSocket, '--timeout', good]);
        assert.equal(result.code, 1, `--timeout ${good} accepted; the missing agent is the failure: ${result.stderr}`);
      }
    });
  }

  test('api fetch x509 and doctor --connect accept a bare number of seconds', async () => {
    assert.equal((await cli(['api', 'fetch', 'x509', '--socket', missingSocket, '--timeout', '2'])).code, 1);
    const doctor = await cli(['doctor', '--connect', '127.0.0.1:1', '--timeout', '2']);
    assert.equal(doctor.code, 1, doctor.stderr);
    assert.match(doctor.stdout, /connect\.failed/);
  });

  test('doctor: a --timeout that is no duration is a usage error', async () => {
    assertUsageError(await cli(['doctor', '--connect', '127.0.0.1:1', '--timeout', 'soon']), /^meshid: --timeout .*"soon"/);
  });
});

describe('--output', () => {
  const verbs: string[][] = [
    ['api', 'fetch', 'jwt', '--audience', 'a'],
    ['api', 'validate', 'jwt', '--audience', 'a', '--svid', 't'],
    ['api', 'watch'],
    ['ca', 'rotate'],
    ['ca', 'status'],
  ];
  for (const words of verbs) {
    test(`${words.slice(0, 3).join(' ')} --output yaml: exit 2`, async () => {
      assertUsageError(await cli([...words, '--output', 'yaml']), /^meshid: --output must be json \(or text\), got "yaml"$/);
    });
  }
  test('doctor --output yaml: exit 2', async () => {
    assertUsageError(await cli(['doctor', '--cert', 'x.pem', '--output', 'yaml']), /^meshid: --output is text or json, got "yaml"$/);
  });
});

describe('required options', () => {
  test('api fetch jwt without --audience: exit 2', async () => {
    assertUsageError(await cli(['api', 'fetch', 'jwt']), /^meshid: --audience is required$/);
  });
  test('api validate jwt without --audience or --svid: exit 2', async () => {
    assertUsageError(await cli(['api', 'validate', 'jwt', '--svid', 't']), /^meshid: --audience is required$/);
    assertUsageError(await cli(['api', 'validate', 'jwt', '--audience', 'a']), /^meshid: --svid is required$/);
  });
});

describe('no agent on the socket: exit 1 with one line', () => {
  const at = (): string => escapeRegExp(missingSocket);
  test('api fetch x509', async () => {
    assertFailure(await cli(['api', 'fetch', 'x509', '--socket', missingSocket]), new RegExp(`^meshid: fetch from ${at()} failed: UNAVAILABLE: .*\\n$`));
  });
  test('api fetch x509 --write writes nothing', async () => {
    assertFailure(await cli(['api', 'fetch', 'x509', '--socket', missingSocket, '--write', path.join(dir, 'never')]), /^meshid: fetch from .* failed: UNAVAILABLE: /);
  });
  test('api fetch jwt', async () => {
    assertFailure(await cli(['api', 'fetch', 'jwt', '--audience', 'a', '--socket', missingSocket]), new RegExp(`^meshid: fetch from ${at()} failed: UNAVAILABLE: .*\\n$`));
  });
  test('api validate jwt', async () => {
    assertFailure(await cli(['api', 'validate', 'jwt', '--audience', 'a', '--svid', 't', '--socket', missingSocket]), /^meshid: UNAVAILABLE: .*\n$/);
  });
  test('api watch', async () => {
    assertFailure(await cli(['api', 'watch', '--socket', missingSocket]), new RegExp(`^meshid: watch on ${at()} ended: UNAVAILABLE: .*\\n$`));
  });
  test('healthcheck', async () => {
    assertFailure(await cli(['healthcheck', '--socket', missingSocket]), new RegExp(`^unhealthy: no agent reachable at ${at()} \\(.*\\)\\n$`));
  });
});

describe('finding the socket', () => {
  test('SPIFFE_ENDPOINT_SOCKET=unix:///path is used when --socket is absent', async () => {
    const result = await cli(['healthcheck'], { SPIFFE_ENDPOINT_SOCKET: `unix://${missingSocket}` });
    assertFailure(result, new RegExp(`^unhealthy: no agent reachable at ${escapeRegExp(missingSocket)} `));
  });
  test('without either, ./.meshid/agent.sock', async () => {
    const result = await cli(['api', 'fetch', 'x509']);
    assertFailure(result, new RegExp(`^meshid: fetch from ${escapeRegExp(path.join(dir, '.meshid', 'agent.sock'))} failed: `));
  });
  test('a SPIFFE_ENDPOINT_SOCKET that is not a unix: URI or not absolute: exit 1', async () => {
    assertFailure(await cli(['healthcheck'], { SPIFFE_ENDPOINT_SOCKET: 'tcp://127.0.0.1:1' }), /^meshid: SPIFFE_ENDPOINT_SOCKET must be a unix: URI, got "tcp:\/\/127\.0\.0\.1:1"\n$/);
    assertFailure(await cli(['api', 'watch'], { SPIFFE_ENDPOINT_SOCKET: 'unix:relative.sock' }), /^meshid: SPIFFE_ENDPOINT_SOCKET must name an absolute path, got "unix:relative\.sock"\n$/);
  });
});

describe('run', () => {
  test('a config file that cannot be read: exit 2, the problem listed', async () => {
    const result = await cli(['run', '--config', 'missing.yaml']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^meshid: invalid configuration:\n {2}- cannot read .*missing\.yaml: ENOENT/);
  });
  test('-c is --config; an invalid file: exit 2, every problem listed', async () => {
    await writeFile(path.join(dir, 'bad.yaml'), 'trustDomain: Example.ORG\ncolour: blue\n');
    const result = await cli(['run', '-c', 'bad.yaml']);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^meshid: invalid configuration:\n/);
    assert.match(result.stderr, /colour/);
    assert.match(result.stderr, /trustDomain/);
  });
});

describe('doctor usage errors', () => {
  const cases: [string, string[], RegExp][] = [
    ['no input', [], /^meshid: doctor needs --cert FILE or --connect HOST:PORT$/],
    ['an unreadable --cert', ['--cert', 'nowhere.pem'], /^meshid: cannot read --cert nowhere\.pem: ENOENT$/],
    ['--key without --cert', ['--key', 'k.pem', '--connect', '127.0.0.1:1'], /^meshid: --key needs --cert \(the certificate it belongs to\)$/],
    ['--connect with --cert but no --key', ['--connect', '127.0.0.1:1', '--cert', 'c.pem'], /^meshid: with --connect, --cert and --key go together/],
    ['--servername without --connect', ['--cert', 'x.pem', '--servername', 'a'], /^meshid: --servername needs --connect$/],
    ['a bad --connect', ['--connect', 'localhost'], /^meshid: --connect wants HOST:PORT \(e\.g\. 127\.0\.0\.1:8443 or \[::1\]:8443\), got "localhost"$/],
    ['a bad --now', ['--cert', 'x.pem', '--now', 'yesterday'], /^meshid: --now wants an ISO time such as 2026-01-31T12:00:00Z, got "yesterday"$/],
  ];
  for (const [title, args, firstLine] of cases) {
    test(title, async () => {
      assertUsageError(await cli(['doctor', ...args]), firstLine);
    });
  }
});
