import path from 'node:path';
import type { z } from 'zod';
import { SpiffeId } from '../../identity/spiffe-id';
import { parseDuration } from './duration';
import { workloadSpiffeIdProblem } from './field-rules';
import { fieldSchemas } from './schema';

/**
 * Linux's sun_path is 108 bytes including the terminating NUL; a longer socket path fails at
 * bind time with an error that does not say why, so it is caught here.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

const NOT_A_MAPPING = Symbol('not a mapping');
type Dug = unknown | typeof NOT_A_MAPPING;

/**
 * Rules that relate two fields. They run on the raw document even when the schema rejected
 * other parts of it (so every problem is reported in one go), each only when the fields it
 * reads are valid on their own: a broken field is reported once, by the schema.
 */
export function crossCheckProblems(input: unknown, baseDir: string): string[] {
  const problems: string[] = [];
  const trustDomain = validValue(fieldSchemas.trustDomain, dig(input, 'trustDomain'));

  const svidTtlText = validValue(fieldSchemas.svidTtl, dig(input, 'svid', 'ttl'));
  const caTtlText = validValue(fieldSchemas.caTtl, dig(input, 'ca', 'ttl'));
  if (svidTtlText !== undefined && caTtlText !== undefined) {
    const svidTtlMs = parseDuration(svidTtlText) ?? 0;
    const caTtlMs = parseDuration(caTtlText) ?? 0;
    // The node intermediate is replaced at half its life, and the SVIDs it signed just before
    // must not outlive it (their notAfter would be cut short, or chains would break).
    if (caTtlMs <= 2 * svidTtlMs) {
      problems.push(`ca.ttl: "${caTtlText}" must be more than twice svid.ttl ("${svidTtlText}"): the node intermediate must outlive the SVIDs it signs`);
    }
  }

  const socketPath = validValue(fieldSchemas.socketPath, dig(input, 'socketPath'));
  if (socketPath !== undefined) {
    const resolved = path.resolve(baseDir, socketPath);
    const bytes = Buffer.byteLength(resolved);
    if (bytes > MAX_SOCKET_PATH_BYTES) problems.push(`socketPath: "${resolved}" is ${bytes} bytes; unix socket paths are limited to ${MAX_SOCKET_PATH_BYTES}`);
  }

  problems.push(...entryListProblems(dig(input, 'entries'), trustDomain, 'entries'));

  const files = dig(input, 'files');
  if (Array.isArray(files)) {
    const paths = new Map<string, string>();
    files.forEach((raw, index) => {
      const where = `files[${index}]`;
      const spiffeId = dig(raw, 'spiffeId');
      if (trustDomain !== undefined && typeof spiffeId === 'string' && workloadSpiffeIdProblem(spiffeId) === undefined && SpiffeId.parse(spiffeId).trustDomain !== trustDomain) {
        problems.push(`${where}.spiffeId: "${spiffeId}" is not in trust domain "${trustDomain}"`);
      }
      const target = validValue(fieldSchemas.fileTarget, raw);
      if (!target) return;
      if (target.pkcs12File !== undefined && target.pkcs12PasswordFile === undefined) {
        problems.push(`${where}: pkcs12File needs pkcs12PasswordFile (Java keystores require a password)`);
      }
      for (const key of ['certFile', 'keyFile', 'bundleFile', 'pkcs12File'] as const) {
        const file = target[key];
        if (file === undefined) continue;
        const resolved = path.resolve(baseDir, file);
        const earlier = paths.get(resolved);
        if (earlier) problems.push(`${where}.${key}: "${resolved}" is also ${earlier}; each file has one writer`);
        else paths.set(resolved, `${where}.${key}`);
      }
    });
  }
  return problems;
}

/**
 * Rules across a list of entries (inline `entries` or an entries file): IDs in the trust domain,
 * and entries granting one ID agreeing on what goes into its SVID.
 */
export function entryListProblems(entries: unknown, trustDomain: string | undefined, where: string): string[] {
  const problems: string[] = [];
  if (!Array.isArray(entries)) return problems;
  const firstWithId = new Map<string, { index: number; dnsNames: readonly string[]; hint: string | undefined; allowedPeers?: readonly string[] }>();
  entries.forEach((raw, index) => {
    const spiffeId = dig(raw, 'spiffeId');
    if (trustDomain !== undefined && typeof spiffeId === 'string' && workloadSpiffeIdProblem(spiffeId) === undefined && SpiffeId.parse(spiffeId).trustDomain !== trustDomain) {
      problems.push(`${where}[${index}].spiffeId: "${spiffeId}" is not in trust domain "${trustDomain}"`);
    }
    const template = dig(raw, 'spiffeIdTemplate');
    if (trustDomain !== undefined && typeof template === 'string' && !template.startsWith('spiffe://{{trustDomain}}/') && !template.startsWith(`spiffe://${trustDomain}/`)) {
      problems.push(`${where}[${index}].spiffeIdTemplate: "${template}" must start with spiffe://{{trustDomain}}/ or spiffe://${trustDomain}/`);
    }
    const entry = validValue(fieldSchemas.entry, raw);
    if (!entry || entry.spiffeId === undefined) return;
    // Several entries may grant one ID (to different selectors), but an ID has one SVID, so
    // they must agree on what goes into it.
    const earlier = firstWithId.get(entry.spiffeId);
    if (!earlier) firstWithId.set(entry.spiffeId, { index, dnsNames: entry.dnsNames, hint: entry.hint, allowedPeers: entry.allowedPeers });
    else if (earlier.hint !== entry.hint || earlier.dnsNames.join(',') !== entry.dnsNames.join(',')) {
      problems.push(`${where}[${index}]: grants "${entry.spiffeId}" like ${where}[${earlier.index}] but with different dnsNames or hint; entries for one ID must agree on them`);
    } else if (!sameAllowedPeers(earlier.allowedPeers, entry.allowedPeers)) {
      // issue 16: a caller matching both would get only the first entry (one per ID), so its allowedPeers would depend on entry order.
      problems.push(`${where}[${index}]: grants "${entry.spiffeId}" like ${where}[${earlier.index}] but with different allowedPeers; entries for one ID must agree on them`);
    }
  });
  return problems;
}

function sameAllowedPeers(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a === undefined || b === undefined ? a === b : [...a].sort().join('\n') === [...b].sort().join('\n');
}

function validValue<T extends z.ZodType>(schema: T, value: Dug): z.output<T> | undefined {
  if (value === NOT_A_MAPPING) return undefined;
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
}

/** The value at `keys`, undefined when absent, NOT_A_MAPPING when a parent is not a mapping. */
function dig(input: unknown, ...keys: string[]): Dug {
  let current: unknown = input;
  for (const key of keys) {
    if (current === undefined) return undefined;
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return NOT_A_MAPPING;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
