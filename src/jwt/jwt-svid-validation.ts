import type { KeyObject } from 'node:crypto';
import { MeshidError } from '../common/errors';
import { SpiffeId } from '../identity/spiffe-id';
import type { Jose, JWSHeaderParameters, JWTPayload } from './jose';
import type { JwtBundle, JwtBundleKey } from './jwt-bundle';

/** Every algorithm a JWT-SVID may use (JWT-SVID spec §2.1); `none` and HMAC never. */
const JWT_SVID_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'] as const;

export interface ValidatedJwtSvid {
  readonly spiffeId: string;
  readonly claims: JWTPayload;
}

export interface ValidationContext {
  readonly bundle: JwtBundle;
  readonly nowMs: number;
  readonly jose: Jose;
}

/** A reason for rejection found by our own checks (as opposed to jose's). */
class Rejected extends Error {}

/**
 * JWT-SVID validation (JWT-SVID spec §2–4): signed by a key of this trust domain's bundle,
 * with that key's algorithm; `aud` contains the audience; `exp` in the future (and `nbf`, if
 * present, in the past); `sub` a workload SPIFFE ID of the bundle's trust domain; `typ`, when
 * present, JWT or JOSE. Any failure is INVALID_REQUEST, with the reason, never the token.
 */
export async function validateJwtSvid(token: string, audience: string, context: ValidationContext): Promise<ValidatedJwtSvid> {
  const { bundle } = context;
  try {
    const { payload, protectedHeader: header } = await verifyAgainstBundle(token, audience, context);
    if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE') throw new Rejected(`header "typ" is ${JSON.stringify(header.typ)}, not JWT or JOSE`);
    if (typeof payload.sub !== 'string') throw new Rejected('"sub" is not a string');
    let subject: SpiffeId;
    try {
      subject = SpiffeId.parse(payload.sub);
    } catch (error) {
      throw new Rejected(`"sub" is not a SPIFFE ID: ${(error as Error).message}`);
    }
    if (subject.trustDomain !== bundle.trustDomain) throw new Rejected(`"sub" ${subject.toString()} is not in trust domain ${bundle.trustDomain}`);
    if (subject.isRoot) throw new Rejected(`"sub" ${subject.toString()} names the trust domain, not a workload`);
    return { spiffeId: subject.toString(), claims: payload };
  } catch (error) {
    // Anything else is a fault of ours, not of the token: let it surface as an internal error.
    if (!(error instanceof Rejected) && !isJoseError(error)) throw error;
    throw new MeshidError('INVALID_REQUEST', `JWT-SVID rejected: ${reason(error)}`);
  }
}

/**
 * jose's verification with the bundle key the header designates. The kid is optional (JWT-SVID
 * spec §2.2): without one, each key of the header's algorithm is tried (two during a rotation).
 */
async function verifyAgainstBundle(token: string, audience: string, { bundle, jose, nowMs }: ValidationContext): Promise<{ payload: JWTPayload; protectedHeader: JWSHeaderParameters }> {
  const options = { algorithms: [...JWT_SVID_ALGORITHMS], audience, currentDate: new Date(nowMs), requiredClaims: ['sub', 'aud', 'exp'] };
  let candidates: JwtBundleKey[] | undefined;
  for (let index = 0; ; index++) {
    const pick = (header: JWSHeaderParameters): KeyObject => {
      candidates ??= candidateKeys(header, bundle);
      const key = candidates[index];
      if (!key) throw new Rejected('no key left to try');
      return key.publicKey;
    };
    try {
      return await jose.jwtVerify(token, pick, options);
    } catch (error) {
      const signatureMismatch = (error as { code?: string }).code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
      if (!signatureMismatch || candidates === undefined || index + 1 >= candidates.length) throw error;
    }
  }
}

function candidateKeys(header: JWSHeaderParameters, bundle: JwtBundle): JwtBundleKey[] {
  if (header.kid === undefined) {
    const sameAlgorithm = bundle.keys.filter((key) => key.algorithm === header.alg);
    if (sameAlgorithm.length === 0) throw new Rejected(`no key of the ${bundle.trustDomain} JWT bundle uses "alg" ${String(header.alg)}`);
    return sameAlgorithm;
  }
  const key = bundle.keys.find((candidate) => candidate.kid === header.kid);
  if (!key) throw new Rejected(`signed by key ${JSON.stringify(String(header.kid).slice(0, 100))}, which is not in the ${bundle.trustDomain} JWT bundle`);
  // A key signs with one algorithm only: RS256 and PS256 share RSA keys but must not be mixed.
  if (header.alg !== key.algorithm) throw new Rejected(`header "alg" ${String(header.alg)} does not match key "${key.kid}" (${key.algorithm})`);
  return [key];
}

function isJoseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_J');
}

const JOSE_REASONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'token has expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature does not verify',
  ERR_JWS_INVALID: 'not a well-formed JWS compact token',
  ERR_JWT_INVALID: 'not a well-formed JWT',
  ERR_JOSE_ALG_NOT_ALLOWED: 'algorithm not allowed (JWT-SVIDs are signed with RS*, ES* or PS*)',
  ERR_JOSE_NOT_SUPPORTED: 'unsupported token format or algorithm',
};

function reason(error: unknown): string {
  if (error instanceof Rejected) return error.message;
  const { code, claim, reason: claimReason, message } = error as { code?: string; claim?: string; reason?: string; message?: string };
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    if (claim === 'aud') return 'audience not in the token\'s "aud"';
    if (claimReason === 'missing') return `required claim "${String(claim)}" is missing`;
    return `claim "${String(claim)}" is invalid: ${String(message)}`;
  }
  // jose's own messages describe the structure at fault and never echo the token.
  return (code !== undefined ? JOSE_REASONS[code] : undefined) ?? message ?? 'invalid token';
}
