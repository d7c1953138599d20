import { MeshidError } from '../common/errors';

// SPIFFE ID spec §2 (scheme, 2048-byte limit), §2.1 (trust domain) and §2.2 (path).
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const PATH_SEGMENT = /^[a-zA-Z0-9._-]+$/;
const MAX_ID_BYTES = 2048;

/** undefined when `name` is a valid trust domain name, else the reason it is not. */
export function validateTrustDomain(name: string): string | undefined {
  if (name.length === 0) return 'trust domain is empty';
  if (!TRUST_DOMAIN.test(name)) return `trust domain "${name}" may contain only lowercase letters, digits, ".", "-" and "_"`;
  return undefined;
}

/** The input as shown in errors: JSON-quoted (control characters escaped) and cut short. */
function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** A parsed, validated SPIFFE ID: spiffe://<trust domain><path>. */
export class SpiffeId {
  private constructor(
    readonly trustDomain: string,
    readonly path: string,
  ) {}

  static parse(text: string): SpiffeId {
    const invalid = (reason: string): MeshidError => new MeshidError('INVALID_SPIFFE_ID', `invalid SPIFFE ID ${quote(text)}: ${reason}`);
    if (Buffer.byteLength(text) > MAX_ID_BYTES) throw invalid(`longer than ${MAX_ID_BYTES} bytes`);
    if (!text.startsWith('spiffe://')) throw invalid('scheme must be "spiffe://" (lowercase)');
    const rest = text.slice('spiffe://'.length);
    if (/[?#]/.test(rest)) throw invalid('query and fragment are not allowed');
    const slash = rest.indexOf('/');
    const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
    const path = slash === -1 ? '' : rest.slice(slash);
    if (trustDomain.includes('@')) throw invalid('userinfo is not allowed');
    if (trustDomain.includes(':')) throw invalid('a port is not allowed');
    const domainProblem = validateTrustDomain(trustDomain);
    if (domainProblem) throw invalid(domainProblem);
    if (path !== '') {
      if (path.endsWith('/')) throw invalid('path must not end with "/"');
      for (const segment of path.slice(1).split('/')) {
        if (segment === '') throw invalid('path has an empty segment');
        if (segment === '.' || segment === '..') throw invalid(`path segment "${segment}" is not allowed`);
        if (!PATH_SEGMENT.test(segment)) throw invalid(`path segment "${segment}" may contain only letters, digits, ".", "-" and "_"`);
      }
    }
    return new SpiffeId(trustDomain, path);
  }

  /** The trust domain's own ID (no path), as used for signing certificates and bundle keys. */
  get isRoot(): boolean {
    return this.path === '';
  }

  toString(): string {
    return `spiffe://${this.trustDomain}${this.path}`;
  }
}
