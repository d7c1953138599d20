import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import type { CliResult } from '../../support/meshid-cli';

/**
 * The CLI contract: what scripts and operators rely on. Exit codes, which stream a line goes
 * to, and the shape of each line are pinned; volatile values (paths, serials, times, gRPC
 * detail text) are matched loosely. Help text is not pinned beyond naming the verb.
 */

/** Every verb, as the words typed after `meshid`, with one of its options that takes a value. */
export const VERBS: readonly { readonly words: readonly string[]; readonly valueFlag: string }[] = [
  { words: ['run'], valueFlag: '--config' },
  { words: ['api', 'fetch', 'x509'], valueFlag: '--socket' },
  { words: ['api', 'fetch', 'jwt'], valueFlag: '--audience' },
  { words: ['api', 'validate', 'jwt'], valueFlag: '--svid' },
  { words: ['api', 'watch'], valueFlag: '--socket' },
  { words: ['healthcheck'], valueFlag: '--timeout' },
  { words: ['doctor'], valueFlag: '--cert' },
  { words: ['ca', 'rotate'], valueFlag: '--admin' },
  { words: ['ca', 'status'], valueFlag: '--admin' },
];

export const EXIT_USAGE = 2;

const describeResult = (result: CliResult): string => `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;

/** A usage error: exit 2, nothing on stdout, the first stderr line matching `firstLine`. */
export function assertUsageError(result: CliResult, firstLine: RegExp): void {
  assert.equal(result.code, EXIT_USAGE, describeResult(result));
  assert.equal(result.stdout, '', describeResult(result));
  assert.match(result.stderr.split('\n')[0] ?? '', firstLine, describeResult(result));
}

/** A failure the command reports itself: exit 1, nothing on stdout, one stderr line matching `line`. */
export function assertFailure(result: CliResult, line: RegExp): void {
  assert.equal(result.code, 1, describeResult(result));
  assert.equal(result.stdout, '', describeResult(result));
  assert.match(result.stderr, line, describeResult(result));
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, `one line on stderr:\n${describeResult(result)}`);
}

/** Success: exit 0 and nothing on stderr. */
export function assertSuccess(result: CliResult): void {
  assert.equal(result.code, 0, describeResult(result));
  assert.equal(result.stderr, '', describeResult(result));
}

export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
