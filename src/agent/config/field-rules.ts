import { isMeshidError } from '../../errors';
import { SpiffeId } from '../../identity/spiffe-id';

/**
 * Single-field rules the schema applies. Each returns the reason a value is wrong, or undefined.
 * Rules that relate two fields (an entry's trust domain, ca.ttl against svid.ttl) live in
 * cross-checks.ts.
 */

/**
 * Selector types an attestor produces, with the keys each emits (src/workload/attestors). A
 * selector nothing can produce would silently match no workload, so it is a config error.
 */
const SELECTOR_KEYS: Readonly<Record<string, readonly string[]>> = {
  unix: ['uid', 'gid', 'user', 'group', 'supplementary_gid'],
};
const NUMERIC_UNIX_KEYS = new Set(['uid', 'gid', 'supplementary_gid']);

export function selectorProblem(selector: string): string | undefined {
  // The value may itself contain ':' (SPIRE's k8s and docker selectors do), the type and key may not.
  const [type = '', key = '', ...rest] = selector.split(':');
  const value = rest.join(':');
  if (type === '' || key === '' || value === '') {
    return `"${selector}" is not of the form <type>:<key>:<value> (e.g. unix:uid:1000)`;
  }
  const keys = SELECTOR_KEYS[type];
  if (!keys) return `unknown selector type "${type}" in "${selector}" (known: ${Object.keys(SELECTOR_KEYS).join(', ')})`;
  if (!keys.includes(key)) return `unknown ${type} selector key "${key}" in "${selector}" (known: ${keys.join(', ')})`;
  if (type === 'unix' && NUMERIC_UNIX_KEYS.has(key) && !/^\d+$/.test(value)) return `"${selector}": ${key} must be a number`;
  return undefined;
}

/** A workload's SPIFFE ID: valid (SPIFFE ID §2) and with a path; the bare trust domain ID names CAs. */
export function workloadSpiffeIdProblem(text: string): string | undefined {
  try {
    if (SpiffeId.parse(text).isRoot) return `"${text}" needs a path (the bare trust domain ID is reserved for signing certificates)`;
    return undefined;
  } catch (error) {
    if (isMeshidError(error)) return error.message;
    throw error;
  }
}

/**
 * DNS SANs go into the certificate as IA5String (RFC 5280 §4.2.1.6): ASCII "preferred name
 * syntax" labels, optionally a leading "*." wildcard.
 */
export function dnsNameProblem(name: string): string | undefined {
  const label = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
  const labels = (name.startsWith('*.') ? name.slice(2) : name).split('.');
  if (name.length > 253 || !labels.every((part) => label.test(part))) return `"${name}" is not a valid DNS name`;
  return undefined;
}
