import { MeshidError } from '../errors';
import { SpiffeId } from '../identity/spiffe-id';
import type { Jose, JWSHeaderParameters, JWTPayload } from './jose';
import { JWT_ALGORITHMS } from './jwt-algorithm';
import type { JwtBundle } from './jwt-bundle';

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
 * JWT-SVID validation (JWT-SVID spec §3–4): signed by a key of this trust domain's bundle,
 * with an allowed algorithm; `aud` contains the audience; `exp` in the future (and `nbf`, if
 * present, in the past); `sub` a workload SPIFFE ID of the bundle's trust domain; `typ`, when
 * present, JWT or JOSE. Any failure is INVALID_REQUEST, with the reason, never the token.
 */
export async function validateJwtSvid(token: string, audience: string, context: ValidationContext): Promise<ValidatedJwtSvid> {
  const { bundle, jose } = context;
  let payload: JWTPayload;
  let header: JWSHeaderParameters;
  try {
    ({ payload, protectedHeader: header } = await jose.jwtVerify(token, (candidate: JWSHeaderParameters) => keyFor(candidate, bundle), {
      algorithms: [...JWT_ALGORITHMS],
      audience,
      currentDate: new Date(context.nowMs),
      requiredClaims: ['sub', 'aud', 'exp'],
    }));
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

function isJoseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_J');
}

function keyFor(header: JWSHeaderParameters, bundle: JwtBundle) {
  if (typeof header.kid !== 'string' || header.kid === '') throw new Rejected('header has no "kid"');
  const key = bundle.keys.find((candidate) => candidate.kid === header.kid);
  if (!key) throw new Rejected(`signed by key "${header.kid}", which is not in the ${bundle.trustDomain} JWT bundle`);
  // A key signs with one algorithm only: RS256 and PS256 share RSA keys but must not be mixed.
  if (header.alg !== key.algorithm) throw new Rejected(`header "alg" ${String(header.alg)} does not match key "${key.kid}" (${key.algorithm})`);
  return key.publicKey;
}

const JOSE_REASONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'token has expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature does not verify',
  ERR_JWS_INVALID: 'not a well-formed JWS compact token',
  ERR_JWT_INVALID: 'not a well-formed JWT',
  ERR_JOSE_ALG_NOT_ALLOWED: `algorithm not allowed (allowed: ${JWT_ALGORITHMS.join(', ')})`,
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
