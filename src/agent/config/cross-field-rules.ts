import type { core } from 'zod';
import { SpiffeId } from '../../identity/spiffe-id';
import { durationMs } from './field-schemas';

/**
 * Linux's sun_path is 108 bytes including the terminating NUL; a longer socket path fails at
 * bind time with an error that does not say why, so it is caught here.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * What a refinement may read of a parse. The schema's top-level refinement runs even when other
 * fields were rejected (so every problem is reported at once); each rule reads only fields that
 * parsed without a problem, so a broken field is reported once, by its own schema.
 */
export class ParsedValues {
  private readonly issues: readonly core.$ZodRawIssue[];

  /** `issues` is copied: what the rules themselves report does not make a field invalid. */
  constructor(
    private readonly root: unknown,
    issues: readonly core.$ZodRawIssue[],
  ) {
    this.issues = [...issues];
  }

  /** The value at `at` as parsed, or as given where its parent was rejected; undefined when absent. */
  at(...at: readonly PropertyKey[]): unknown {
    let current = this.root;
    for (const key of at) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<PropertyKey, unknown>)[key];
    }
    return current;
  }

  /** The value at `at` when nothing at or under it was reported; undefined otherwise. */
  valid(...at: readonly PropertyKey[]): unknown {
    const reported = this.issues.some((issue) => at.every((key, index) => issue.path?.[index] === key));
    return reported ? undefined : this.at(...at);
  }
}

/** Adds one problem at a key path (relative to the value the refinement is on). */
export type Report = (at: readonly PropertyKey[], message: string) => void;

export const reportTo =
  (ctx: core.$RefinementCtx): Report =>
  (at, message) =>
    ctx.addIssue({ code: 'custom', message, path: [...at] });

/** `entries[0].selectors[1]`; empty for the top level. */
export function keyPath(segments: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of segments) text += typeof segment === 'number' ? `[${segment}]` : `${text ? '.' : ''}${String(segment)}`;
  return text;
}

/** Rules relating fields of the whole config, in the order they are reported. */
export function agentConfigRules(parsed: ParsedValues, report: Report): void {
  const trustDomain = stringOrUndefined(parsed.valid('trustDomain'));

  const svidTtl = stringOrUndefined(parsed.valid('svid', 'ttl'));
  const caTtl = stringOrUndefined(parsed.valid('ca', 'ttl'));
  // The node intermediate is replaced at half its life, and the SVIDs it signed just before
  // must not outlive it (their notAfter would be cut short, or chains would break).
  if (svidTtl !== undefined && caTtl !== undefined && durationMs(caTtl) <= 2 * durationMs(svidTtl)) {
    report(['ca', 'ttl'], `"${caTtl}" must be more than twice svid.ttl ("${svidTtl}"): the node intermediate must outlive the SVIDs it signs`);
  }

  const socketPath = stringOrUndefined(parsed.valid('socketPath')); // resolved by the schema
  if (socketPath !== undefined && Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    report(['socketPath'], `"${socketPath}" is ${Buffer.byteLength(socketPath)} bytes; unix socket paths are limited to ${MAX_SOCKET_PATH_BYTES}`);
  }

  entryListRules(parsed, ['entries'], trustDomain, report);
  fileTargetRules(parsed, trustDomain, report);
}

/** The fields of a parsed entry the list rules read. */
interface ParsedEntry {
  readonly spiffeId?: string;
  readonly dnsNames: readonly string[];
  readonly hint?: string;
  readonly allowedPeers?: readonly string[];
}

/**
 * Rules across a list of entries (inline `entries` or an entries file): IDs in the trust domain,
 * and entries granting one ID agreeing on what goes into its SVID.
 */
export function entryListRules(parsed: ParsedValues, at: readonly PropertyKey[], trustDomain: string | undefined, report: Report): void {
  const entries = parsed.at(...at);
  if (!Array.isArray(entries)) return;
  const firstWithId = new Map<string, { index: number; dnsNames: readonly string[]; hint: string | undefined; allowedPeers: readonly string[] | undefined }>();
  entries.forEach((_, index) => {
    const spiffeId = stringOrUndefined(parsed.valid(...at, index, 'spiffeId'));
    if (trustDomain !== undefined && spiffeId !== undefined && SpiffeId.parse(spiffeId).trustDomain !== trustDomain) {
      report([...at, index, 'spiffeId'], `"${spiffeId}" is not in trust domain "${trustDomain}"`);
    }
    // Checked on any string: a template can be wrong both in itself and in its trust domain.
    const template = stringOrUndefined(parsed.at(...at, index, 'spiffeIdTemplate'));
    if (trustDomain !== undefined && template !== undefined && !template.startsWith('spiffe://{{trustDomain}}/') && !template.startsWith(`spiffe://${trustDomain}/`)) {
      report([...at, index, 'spiffeIdTemplate'], `"${template}" must start with spiffe://{{trustDomain}}/ or spiffe://${trustDomain}/`);
    }
    const entry = parsed.valid(...at, index) as ParsedEntry | undefined;
    if (entry?.spiffeId === undefined) return;
    // Several entries may grant one ID (to different selectors), but an ID has one SVID, so
    // they must agree on what goes into it.
    const earlier = firstWithId.get(entry.spiffeId);
    if (!earlier) firstWithId.set(entry.spiffeId, { index, dnsNames: entry.dnsNames, hint: entry.hint, allowedPeers: entry.allowedPeers });
    else if (earlier.hint !== entry.hint || earlier.dnsNames.join(',') !== entry.dnsNames.join(',')) {
      report([...at, index], `grants "${entry.spiffeId}" like ${keyPath([...at, earlier.index])} but with different dnsNames or hint; entries for one ID must agree on them`);
    } else if (!sameAllowedPeers(earlier.allowedPeers, entry.allowedPeers)) {
      // A caller matching both gets only the first entry for an ID, so its allowedPeers would depend on entry order (issue 16).
      report([...at, index], `grants "${entry.spiffeId}" like ${keyPath([...at, earlier.index])} but with different allowedPeers; entries for one ID must agree on them`);
    }
  });
}

function sameAllowedPeers(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return a === undefined || b === undefined ? a === b : [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** The fields of a parsed files target the rules read; its paths are already resolved. */
interface ParsedFileTarget {
  readonly certFile: string;
  readonly keyFile: string;
  readonly bundleFile?: string;
  readonly pkcs12File?: string;
  readonly pkcs12PasswordFile?: string;
}

/** Files targets: IDs in the trust domain, a password for every keystore, one writer per file. */
function fileTargetRules(parsed: ParsedValues, trustDomain: string | undefined, report: Report): void {
  const files = parsed.at('files');
  if (!Array.isArray(files)) return;
  const writers = new Map<string, string>();
  files.forEach((_, index) => {
    const spiffeId = stringOrUndefined(parsed.valid('files', index, 'spiffeId'));
    if (trustDomain !== undefined && spiffeId !== undefined && SpiffeId.parse(spiffeId).trustDomain !== trustDomain) {
      report(['files', index, 'spiffeId'], `"${spiffeId}" is not in trust domain "${trustDomain}"`);
    }
    const target = parsed.valid('files', index) as ParsedFileTarget | undefined;
    if (!target) return;
    if (target.pkcs12File !== undefined && target.pkcs12PasswordFile === undefined) {
      report(['files', index], 'pkcs12File needs pkcs12PasswordFile (Java keystores require a password)');
    }
    for (const key of ['certFile', 'keyFile', 'bundleFile', 'pkcs12File'] as const) {
      const file = target[key];
      if (file === undefined) continue;
      const earlier = writers.get(file);
      if (earlier) report(['files', index, key], `"${file}" is also ${earlier}; each file has one writer`);
      else writers.set(file, keyPath(['files', index, key]));
    }
  });
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
