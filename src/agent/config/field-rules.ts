import { isIP } from 'node:net';
import { isMeshidError } from '../../common/errors';
import { SpiffeId } from '../../identity/spiffe-id';
import { SpiffeIdTemplate } from '../../entries/spiffe-id-template';
import { isLoopbackHost } from '../../common/loopback';

/**
 * Single-field rules the schema applies. Each returns the reason a value is wrong, or undefined.
 * Rules that relate two fields (an entry's trust domain, ca.ttl against svid.ttl) live in
 * cross-field-rules.ts.
 */

/**
 * Selector types an attestor produces, with the keys each emits (src/workload/attestors). A
 * selector nothing can produce would silently match no workload, so it is a config error.
 */
const SELECTOR_KEYS: Readonly<Record<string, readonly string[]>> = {
  unix: ['uid', 'gid', 'user', 'group', 'supplementary_gid', 'path', 'sha256'],
  k8s: ['ns', 'sa', 'pod-name', 'pod-uid', 'pod-label', 'container-name', 'container-image', 'node-name'],
  docker: ['label', 'image_id', 'env'],
};
/** Keys whose value is itself `<name>:<value>` (a label or environment variable). */
const PAIR_KEYS = new Set(['k8s:pod-label', 'docker:label', 'docker:env']);
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
  if (value === '*') return undefined; // wildcard: any value (for template entries)
  if (type === 'unix' && NUMERIC_UNIX_KEYS.has(key) && !/^\d+$/.test(value)) return `"${selector}": ${key} must be a number`;
  if (PAIR_KEYS.has(`${type}:${key}`) && !/^[^:]+:/.test(value)) return `"${selector}": ${type}:${key} takes <name>:<value>`;
  return undefined;
}

/** Placeholders of a SPIFFE ID template must name a selector type and key an attestor produces. */
export function templateProblem(template: string): string | undefined {
  let parsed: SpiffeIdTemplate;
  try {
    parsed = SpiffeIdTemplate.parse(template);
  } catch (error) {
    if (isMeshidError(error)) return error.message;
    throw error;
  }
  for (const prefix of parsed.selectorPrefixes) {
    const [type = '', key = ''] = prefix.split(':');
    if (!SELECTOR_KEYS[type]?.includes(key)) return `placeholder {{${type}.${key}}} in "${template}" names no selector an attestor produces`;
  }
  return undefined;
}

/** `host:port` for the admin listener; the host is an IP address or "localhost". */
export function listenAddressProblem(text: string): string | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) return `"${text}" is not host:port (e.g. 127.0.0.1:8088 or [::1]:8088)`;
  const host = match[1] ?? match[2] ?? '';
  if (host !== 'localhost' && isIP(host) === 0) return `"${host}" in "${text}" is not an IP address or localhost`;
  return undefined;
}

/**
 * issue 14: the admin server answers /metrics, /debug/svids and /ca/rotation (SPIFFE IDs, serials,
 * root fingerprints) to whoever reaches it, so listening beyond loopback must be asked for.
 */
export function adminRemoteProblem(listen: string, allowRemote: boolean): string | undefined {
  const host = /^(?:\[([^\]]+)\]|([^:]+)):\d+$/.exec(listen);
  const name = host?.[1] ?? host?.[2];
  if (name === undefined || allowRemote || isLoopbackHost(name)) return undefined;
  return `"${listen}" is not a loopback address: it would expose /metrics, /debug/svids (SPIFFE IDs, serials) and /ca/rotation (root fingerprints) to the network; set admin.allowRemote: true to confirm (POST /ca/rotate stays loopback-only)`;
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
